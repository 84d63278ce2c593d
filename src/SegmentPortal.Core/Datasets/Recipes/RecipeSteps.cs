using System.Text.Json;
using System.Text.Json.Serialization;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Datasets.Recipes;

public enum MissingAction
{
    DropRows,
    FillMean,
    FillMedian,
    FillConstant,
    FillUnknown,
}

public enum OutlierMethod
{
    /// <summary>More than three standard deviations from the mean.</summary>
    ThreeSigma,

    /// <summary>Beyond 1.5 interquartile ranges outside the quartiles.</summary>
    Iqr,
}

public enum FilterOperator
{
    Equals,
    NotEquals,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
    StartsWith,
    NotStartsWith,
    Contains,
    NotContains,
    IsEmpty,
    IsNotEmpty,
}

/// <summary>One cleaning step. Steps run in order on the output of the step before, starting from the raw import.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "step")]
[JsonDerivedType(typeof(RemoveDuplicateRows), "removeDuplicates")]
[JsonDerivedType(typeof(KeepOnePerKey), "dedupeOnKey")]
[JsonDerivedType(typeof(HandleMissing), "missing")]
[JsonDerivedType(typeof(HandleOutliers), "outliers")]
[JsonDerivedType(typeof(FilterRows), "filter")]
[JsonDerivedType(typeof(TrimText), "trim")]
[JsonDerivedType(typeof(ParseDates), "parseDates")]
[JsonDerivedType(typeof(CastColumn), "cast")]
public abstract record RecipeStep
{
    /// <summary>The step in words, for the recipe list ("Drop rows where CustomerID is empty").</summary>
    public abstract string Describe();
}

/// <summary>Removes rows that repeat an earlier row in every column.</summary>
public sealed record RemoveDuplicateRows : RecipeStep
{
    public override string Describe() => "Remove exact duplicate rows";
}

/// <summary>Keeps one row per key: the first or the last in file order.</summary>
public sealed record KeepOnePerKey(IReadOnlyList<string> Columns, bool KeepLast = false) : RecipeStep
{
    public override string Describe() => $"Keep the {(KeepLast ? "last" : "first")} row per {string.Join(" + ", Columns)}";
}

public sealed record HandleMissing(string Column, MissingAction Action, string? Value = null) : RecipeStep
{
    public override string Describe() => Action switch
    {
        MissingAction.DropRows => $"Drop rows where {Column} is empty",
        MissingAction.FillMean => $"Fill empty {Column} with the mean",
        MissingAction.FillMedian => $"Fill empty {Column} with the median",
        MissingAction.FillConstant => $"Fill empty {Column} with \"{Value}\"",
        _ => $"Fill empty {Column} with \"Unknown\"",
    };
}

public sealed record HandleOutliers(string Column, OutlierMethod Method, bool Drop) : RecipeStep
{
    public override string Describe() =>
        $"{(Drop ? "Drop" : "Flag")} outliers in {Column} ({(Method == OutlierMethod.ThreeSigma ? "beyond 3σ" : "beyond 1.5 × IQR")})";

    /// <summary>The flag column a <see cref="Drop"/> = false step adds.</summary>
    public string FlagColumn => $"{Column}_outlier";
}

/// <summary>Keeps the rows that meet the condition.</summary>
public sealed record FilterRows(string Column, FilterOperator Operator, string? Value = null) : RecipeStep
{
    public override string Describe() => $"Keep rows where {Column} {Operator switch
    {
        FilterOperator.Equals => "is",
        FilterOperator.NotEquals => "is not",
        FilterOperator.GreaterThan => ">",
        FilterOperator.GreaterOrEqual => "≥",
        FilterOperator.LessThan => "<",
        FilterOperator.LessOrEqual => "≤",
        FilterOperator.StartsWith => "starts with",
        FilterOperator.NotStartsWith => "does not start with",
        FilterOperator.Contains => "contains",
        FilterOperator.NotContains => "does not contain",
        FilterOperator.IsEmpty => "is empty",
        _ => "is not empty",
    }}{Operator switch
    {
        FilterOperator.IsEmpty or FilterOperator.IsNotEmpty => "",
        // Comparisons are numbers or dates (Quantity > 0), and so is "is 3"; text stays quoted ("starts with "C"").
        FilterOperator.GreaterThan or FilterOperator.GreaterOrEqual or FilterOperator.LessThan or FilterOperator.LessOrEqual => $" {Value}",
        FilterOperator.Equals or FilterOperator.NotEquals when double.TryParse(Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) => $" {Value}",
        _ => $" \"{Value}\"",
    }}";
}

/// <summary>Trims spaces around text; no columns means every text column.</summary>
public sealed record TrimText(IReadOnlyList<string> Columns) : RecipeStep
{
    public override string Describe() => Columns.Count == 0 ? "Trim spaces in all text columns" : $"Trim spaces in {string.Join(", ", Columns)}";
}

/// <summary>Reads text as dates with a format like %d/%m/%Y (DuckDB strptime); values that do not match become empty.</summary>
public sealed record ParseDates(string Column, string Format) : RecipeStep
{
    public override string Describe() => $"Read {Column} as dates in the format {Format}";

    public bool HasTime => Format.Contains("%H", StringComparison.Ordinal) || Format.Contains("%I", StringComparison.Ordinal)
        || Format.Contains("%M", StringComparison.Ordinal) || Format.Contains("%S", StringComparison.Ordinal);
}

public sealed record CastColumn(string Column, ColumnType Type) : RecipeStep
{
    public override string Describe() => $"Change {Column} to {Type}";
}

/// <summary>The versioned list of steps stored with a dataset.</summary>
public sealed record Recipe(IReadOnlyList<RecipeStep> Steps, int Version = 1)
{
    public static Recipe Empty { get; } = new([]);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static Recipe FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Empty;
        }
        Recipe? recipe;
        try
        {
            recipe = JsonSerializer.Deserialize<Recipe>(json, Json);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new PortalException($"This cleaning recipe cannot be read ({ex.Message}).", ex);
        }
        if (recipe is null)
        {
            return Empty;
        }
        if (recipe.Steps is null || !recipe.Steps.All(IsComplete))
        {
            throw new PortalException("This cleaning recipe cannot be read: its list of steps is missing, or a step lacks its column.");
        }
        return recipe.Version == 1 ? recipe : throw new PortalException($"This cleaning recipe has version {recipe.Version}, which this portal does not read.");
    }

    /// <summary>What the reader lets through but a step cannot run without: the step itself and its columns.</summary>
    private static bool IsComplete(RecipeStep? step) => step switch
    {
        null => false,
        KeepOnePerKey k => k.Columns is not null && k.Columns.All(c => c is not null),
        TrimText t => t.Columns is not null && t.Columns.All(c => c is not null),
        HandleMissing m => m.Column is not null,
        HandleOutliers o => o.Column is not null,
        FilterRows f => f.Column is not null,
        ParseDates p => p.Column is not null && p.Format is not null,
        CastColumn c => c.Column is not null,
        _ => true,
    };
}
