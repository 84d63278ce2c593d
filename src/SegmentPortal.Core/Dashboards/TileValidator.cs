using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Dashboards;

/// <summary>
/// The checks a tile must pass before it is saved, against the fields of its dataset as the permission policy describes
/// them: fields exist, measures suit their columns, each type has the dimensions and measures it draws. Checks that
/// need the store (segments, analyses, the tile's rule) are the service's.
/// </summary>
public static class TileValidator
{
    public const int MaxTopN = 100;
    public const int MaxMeasures = 10;
    public const int MaxMarkdown = 20_000;

    /// <summary>Types that read their own analysis rather than a dataset's rows.</summary>
    public static bool NeedsDataset(TileType type) => type is not (TileType.Text or TileType.SegmentSize or TileType.RfmGrid or TileType.ClusterProfile);

    public static void Validate(TileDefinition tile, QueryDataset? dataset)
    {
        if (string.IsNullOrWhiteSpace(tile.Id) || tile.Id.Length > 50)
        {
            throw new PortalException("A tile needs an id of at most 50 characters.");
        }
        if (!Enum.IsDefined(tile.Type))
        {
            throw new PortalException("Choose what the tile shows.");
        }
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
        ValidateShape(tile);
        if (NeedsDataset(tile.Type))
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
            ValidateTypeFields(tile, data);
        }
    }

    /// <summary>How many dimensions and measures each type takes.</summary>
    private static void ValidateShape(TileDefinition tile)
    {
        var (dims, measures) = (tile.Dimensions.Count, tile.Measures.Count);
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new PortalException(message);
            }
        }
        switch (tile.Type)
        {
            case TileType.Kpi:
                Require(dims == 0 && measures == 1, "A KPI shows one measure, without dimensions.");
                break;
            case TileType.Bar or TileType.Line or TileType.Area:
                Require(dims is 1 or 2 && measures >= 1, "A bar, line or area chart needs one or two dimensions and at least one measure.");
                break;
            case TileType.Pie or TileType.Funnel:
                Require(dims == 1 && measures == 1, "A pie or funnel needs one dimension and one measure.");
                break;
            case TileType.Treemap:
                Require(dims is 1 or 2 && measures == 1, "A treemap needs one or two dimensions and one measure.");
                break;
            case TileType.Heatmap:
                Require(dims == 2 && measures == 1, "A heatmap needs two dimensions and one measure.");
                break;
            case TileType.Scatter:
                Require(dims is 1 or 2 && measures == 2, "A scatter plot needs a dimension (and optionally a colour) and two measures.");
                break;
            case TileType.Histogram:
                Require(dims == 1 && measures <= 1, "A histogram needs one number column and at most one measure (rows by default).");
                break;
            case TileType.Box:
                Require(dims <= 1 && measures == 1 && tile.Measures[0].Column is { Length: > 0 },
                    "A box plot needs the number column (as its measure) and at most one dimension.");
                break;
            case TileType.Table:
                Require(dims + measures >= 1 && dims <= 5, "A table needs at least one column or measure, and at most five dimensions.");
                break;
            case TileType.Pivot:
                Require(dims == 2 && measures == 1, "A pivot needs two dimensions (rows and columns) and one measure.");
                break;
            case TileType.Text:
                Require(!string.IsNullOrWhiteSpace(tile.Markdown) && tile.Markdown.Length <= MaxMarkdown, $"A text tile needs text (at most {MaxMarkdown:N0} characters).");
                break;
            case TileType.CompareSegments:
                Require(tile.SegmentIds.Distinct().Count() is >= 2 and <= 5 && tile.SegmentIds.Count == tile.SegmentIds.Distinct().Count(),
                    "Compare two to five different segments.");
                Require(dims <= 1 && measures == 1, "Compare segments on one measure, with at most one dimension.");
                break;
            case TileType.SegmentSize:
                Require(SegmentOf(tile) is not null, "Choose the segment whose size to show.");
                break;
            case TileType.Cohort:
                Require(dims == 0 && measures == 0, "A cohort tile is set by its dataset and date column only.");
                break;
            case TileType.RfmGrid:
                Require(tile.SourceId is not null || tile.DatasetId is not null, "Choose the transactions dataset whose RFM grid to show.");
                break;
            case TileType.ClusterProfile:
                Require(tile.SourceId is not null, "Choose the clustering run whose profiles to show.");
                break;
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

    private static void ValidateTypeFields(TileDefinition tile, QueryDataset dataset)
    {
        if (tile.DateColumn is { Length: > 0 } dateColumn && Require(dataset, dateColumn).Kind != FieldKind.Date)
        {
            throw new PortalException($"{dateColumn} is not a date.");
        }
        if (!Enum.IsDefined(tile.Period))
        {
            throw new PortalException("Choose the period the KPI compares.");
        }
        switch (tile.Type)
        {
            case TileType.Histogram when Require(dataset, tile.Dimensions[0].Column).Kind != FieldKind.Number || tile.Dimensions[0].Bucket is not null:
                throw new PortalException($"A histogram needs a number column; {tile.Dimensions[0].Column} is not one.");
            case TileType.Box when Require(dataset, tile.Measures[0].Column!).Kind != FieldKind.Number:
                throw new PortalException($"A box plot needs a number column; {tile.Measures[0].Column} is not one.");
            case TileType.CompareSegments or TileType.Cohort when dataset.WithRole(FieldRole.CustomerId) is null:
                throw new PortalException($"{dataset.Name} has no Customer ID column. Set one on the dataset's Columns & roles tab.");
            case TileType.Cohort when (tile.DateColumn ?? dataset.WithRole(FieldRole.EventDate)?.Name) is null:
                throw new PortalException($"{dataset.Name} has no date column for the orders. Set the Event date role, or choose the date column.");
        }
    }

    private static QueryField Require(QueryDataset dataset, string column) =>
        dataset.Field(column) ?? throw new PortalException(dataset.HiddenColumns.Contains(column, StringComparer.Ordinal)
            ? $"You do not have access to the column \"{column}\" of {dataset.Name}."
            : $"{dataset.Name} has no field \"{column}\".");
}
