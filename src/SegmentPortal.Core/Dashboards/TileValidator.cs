using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;

using SegmentPortal.Core.Rules;
namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// The checks a tile must pass before it is saved, against the fields of its dataset as the permission policy describes
/// them: fields exist, measures suit their columns, each type has the dimensions and measures its <see cref="TileKind"/>
/// allows and passes the kind's own checks. Checks that need the store (segments, analyses, the tile's rule) are the
/// service's.
/// </summary>
internal static class TileValidator
{
    public const int MaxTopN = 100;
    public const int MaxMeasures = 10;
    public const int MaxMarkdown = 20_000;

    public static void Validate(TileDefinition tile, QueryDataset? dataset)
    {
        if (string.IsNullOrWhiteSpace(tile.Id) || tile.Id.Length > 50)
        {
            throw new PortalException("A tile needs an id of at most 50 characters.");
        }
        var kind = TileKinds.Of(tile.Type);
        if (tile.Title.Length > 200)
        {
            throw new PortalException("A tile title has at most 200 characters.");
        }
        if (tile.TopN is < 1 or > MaxTopN)
        {
            throw new PortalException($"Top N must be between 1 and {MaxTopN}.");
        }
        if (tile.Measures.Count > MaxMeasures)
        {
            throw new PortalException($"A tile shows at most {MaxMeasures} measures.");
        }
        if (kind.Check?.Invoke(tile) is { } problem)
        {
            throw new PortalException(problem);
        }
        if (!kind.Fits(tile.Dimensions.Count, tile.Measures.Count))
        {
            throw new PortalException(kind.ShapeMessage);
        }
        if (kind.ReadsDataset)
        {
            var data = dataset ?? throw new PortalException("Choose the dataset the tile reads.");
            foreach (var measure in tile.Measures)
            {
                ValidateMeasure(measure, data, allowRatio: true);
            }
            foreach (var dimension in tile.Dimensions)
            {
                ValidateDimension(dimension, data);
            }
            ValidateTypeFields(kind, tile, data);
        }
    }

    /// <summary>The segment a segment-size tile follows: its one segment id, or the tile's segment.</summary>
    public static int? SegmentOf(TileDefinition tile) => tile.SegmentIds.Count == 1 ? tile.SegmentIds[0] : tile.SegmentIds.Count == 0 ? tile.SegmentId : null;

    public static void ValidateMeasure(TileMeasure measure, QueryDataset dataset, bool allowRatio)
    {
        var name = string.IsNullOrWhiteSpace(measure.Label) ? measure.Kind.ToString() : measure.Label;
        if (!Enum.IsDefined(measure.Kind))
        {
            throw new PortalException("Choose how the measure is computed.");
        }
        if (measure.Kind == TileMeasureKind.Ratio)
        {
            if (!allowRatio)
            {
                throw new PortalException("A ratio's numerator and denominator cannot be ratios themselves.");
            }
            if (measure.Numerator is null || measure.Denominator is null)
            {
                throw new PortalException($"The ratio {name} needs a numerator and a denominator.");
            }
            ValidateMeasure(measure.Numerator, dataset, allowRatio: false);
            ValidateMeasure(measure.Denominator, dataset, allowRatio: false);
            return;
        }
        var field = measure.Column is { Length: > 0 } column ? Require(dataset, column) : null;
        switch (measure.Kind)
        {
            case TileMeasureKind.Count:
                break;
            case TileMeasureKind.Customers:
                _ = dataset.WithRole(FieldRole.CustomerId)
                    ?? throw new PortalException($"{dataset.Name} has no Customer ID column, so customers cannot be counted. Set one on the dataset's Columns & roles tab.");
                break;
            case TileMeasureKind.CountDistinct:
                _ = field ?? throw new PortalException($"Choose the column whose distinct values {name} counts.");
                break;
            case TileMeasureKind.Sum or TileMeasureKind.Average or TileMeasureKind.Median:
                if (field?.Kind != FieldKind.Number)
                {
                    throw new PortalException(field is null ? $"Choose the number column for {name}." : $"{field.Name} is not a number, so it cannot be summed or averaged.");
                }
                break;
            case TileMeasureKind.Min or TileMeasureKind.Max:
                if (field?.Kind is not (FieldKind.Number or FieldKind.Date))
                {
                    throw new PortalException(field is null ? $"Choose the column for {name}." : $"{field.Name} is neither a number nor a date, so it has no lowest or highest value.");
                }
                break;
        }
    }

    private static void ValidateDimension(TileDimension dimension, QueryDataset dataset)
    {
        var field = Require(dataset, dimension.Column);
        if (dimension.Bucket is { } bucket && (!Enum.IsDefined(bucket) || field.Kind != FieldKind.Date))
        {
            throw new PortalException($"{field.Name} is not a date, so it cannot be grouped by period.");
        }
        if (dimension.BinWidth is { } width && (field.Kind != FieldKind.Number || !double.IsFinite(width) || width <= 0))
        {
            throw new PortalException(field.Kind != FieldKind.Number ? $"{field.Name} is not a number, so it cannot be put in bins." : $"The bin width of {field.Name} must be above 0.");
        }
        if (dimension.Bucket is not null && dimension.BinWidth is not null)
        {
            throw new PortalException($"Group {field.Name} by period or by bins, not both.");
        }
        foreach (var level in dimension.Hierarchy ?? [])
        {
            var levelField = Require(dataset, level);
            if (levelField.Kind == FieldKind.Date || field.Kind == FieldKind.Date)
            {
                throw new PortalException("Dates drill through periods by themselves; a hierarchy lists other columns (region → city).");
            }
        }
    }

    private static void ValidateTypeFields(TileKind kind, TileDefinition tile, QueryDataset dataset)
    {
        if (tile.DateColumn is { Length: > 0 } dateColumn && Require(dataset, dateColumn).Kind != FieldKind.Date)
        {
            throw new PortalException($"{dateColumn} is not a date.");
        }
        if (!Enum.IsDefined(tile.Period))
        {
            throw new PortalException("Choose the period the KPI compares.");
        }
        if (kind.Has(TileTraits.NeedsCustomerKey) && dataset.WithRole(FieldRole.CustomerId) is null)
        {
            throw new PortalException($"{dataset.Name} has no Customer ID column. Set one on the dataset's Columns & roles tab.");
        }
        if (kind.CheckFields?.Invoke(tile, dataset) is { } problem)
        {
            throw new PortalException(problem);
        }
    }

    private static QueryField Require(QueryDataset dataset, string column) =>
        dataset.Field(column) ?? throw new PortalException(dataset.HiddenColumns.Contains(column, StringComparer.Ordinal)
            ? $"You do not have access to the column \"{column}\" of {dataset.Name}."
            : $"{dataset.Name} has no field \"{column}\".");
}
