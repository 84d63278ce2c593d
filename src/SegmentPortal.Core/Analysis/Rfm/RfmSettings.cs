using System.Text.Json;
using System.Text.Json.Serialization;

namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>
/// Everything the user chooses for an RFM analysis: how each dimension is scored and the group grid. Each dimension
/// has its own method because Frequency often reads better with fixed cut points ("2 orders") while Recency and
/// Monetary suit quintiles. Saved as JSON with the analysis.
/// </summary>
public sealed record RfmSettings(
    RfmDimensionScoring Recency,
    RfmDimensionScoring Frequency,
    RfmDimensionScoring Monetary,
    RfmGrid Grid)
{
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public int Version { get; init; } = CurrentVersion;

    /// <summary>Quintiles on all three dimensions (default cut points kept for a switch) and the standard grid.</summary>
    public static RfmSettings Default { get; } = new(
        RfmDimensionScoring.Default(RfmDimension.Recency),
        RfmDimensionScoring.Default(RfmDimension.Frequency),
        RfmDimensionScoring.Default(RfmDimension.Monetary),
        RfmGrid.Default);

    /// <summary>The scoring of one dimension.</summary>
    public RfmDimensionScoring For(RfmDimension dimension) => dimension switch
    {
        RfmDimension.Recency => Recency,
        RfmDimension.Frequency => Frequency,
        RfmDimension.Monetary => Monetary,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };

    /// <summary>These settings with one dimension scored differently.</summary>
    public RfmSettings With(RfmDimension dimension, RfmDimensionScoring scoring) => dimension switch
    {
        RfmDimension.Recency => this with { Recency = scoring },
        RfmDimension.Frequency => this with { Frequency = scoring },
        RfmDimension.Monetary => this with { Monetary = scoring },
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, null),
    };

    /// <summary>Everything wrong, as messages for the user; empty when the settings are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Version != CurrentVersion)
        {
            problems.Add($"These RFM settings have version {Version}; this portal reads version {CurrentVersion}.");
        }
        foreach (var dimension in Enum.GetValues<RfmDimension>())
        {
            var problem = For(dimension) is { } scoring
                ? scoring.Problem(dimension)
                : $"{RfmScores.Name(dimension)} has no scoring method.";
            if (problem is not null)
            {
                problems.Add(problem);
            }
        }
        if (Grid is null)
        {
            problems.Add("There is no group grid.");
        }
        else
        {
            problems.AddRange(Grid.Problems());
        }
        return problems;
    }

    /// <summary>Throws the <see cref="Problems"/> as one <see cref="PortalException"/>, if there are any.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new PortalException(string.Join(" ", problems));
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads and validates settings saved by <see cref="ToJson"/>; empty text is <see cref="Default"/>.</summary>
    /// <exception cref="PortalException">The text is not usable settings.</exception>
    public static RfmSettings FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Default;
        }
        RfmSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<RfmSettings>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new PortalException($"These are not RFM settings in SegmentPortal's format ({ex.Message}).", ex);
        }
        if (settings is null)
        {
            throw new PortalException("These RFM settings are empty.");
        }
        settings.Validate();
        return settings;
    }
}
