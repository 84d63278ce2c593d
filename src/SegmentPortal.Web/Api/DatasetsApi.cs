using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Web.Api;

/// <summary>A dataset the user may use.</summary>
public sealed record ApiDataset(
    [property: Description("The dataset's id.")] int Id,
    string Name,
    [property: JsonConverter(typeof(JsonStringEnumConverter<DatasetKind>))] DatasetKind Kind,
    [property: Description("Where the rows came from, in words.")] string Source,
    [property: Description("Rows the user may see (counted over their rows when data rules apply to them).")] long Rows,
    [property: Description("Columns the user may see.")] int Columns,
    DateTimeOffset RefreshedAt,
    [property: JsonConverter(typeof(JsonStringEnumConverter<DatasetStatus>))] DatasetStatus Status);

/// <summary>A column as the user sees it.</summary>
public sealed record ApiColumn(
    string Name,
    [property: Description("What the column means to the portal: customerId, eventDate, amount, quantity, dimension, measure, orderId or none.")]
    [property: JsonConverter(typeof(JsonStringEnumConverter<FieldRole>))] FieldRole Role,
    [property: Description("How it is stored: text, integer, decimal, date, timestamp or boolean (masked and hashed columns are text).")]
    [property: JsonConverter(typeof(JsonStringEnumConverter<ColumnType>))] ColumnType Type,
    [property: Description("The values are masked or hashed for this user by a column rule.")] bool Masked,
    [property: Description("visible, masked or hashed.")]
    [property: JsonConverter(typeof(JsonStringEnumConverter<ColumnTreatment>))] ColumnTreatment Treatment);

/// <summary>A dataset's columns as the user may see them: hidden columns are not listed.</summary>
public sealed record ApiSchema(int Id, string Name, long Rows, IReadOnlyList<ApiColumn> Columns);

/// <summary>An aggregate of a query (<see cref="QuerySpec"/>'s measures).</summary>
public sealed record ApiMeasure(
    [property: Description("count, countDistinct, sum, average, median, min, max, customers, lowerQuartile, upperQuartile or days.")]
    [property: JsonConverter(typeof(JsonStringEnumConverter<MeasureKind>))] MeasureKind Kind,
    [property: Description("The measure's name in the result.")] string Alias,
    [property: Description("The column it aggregates (none for count and customers).")] string? Column = null,
    [property: Description("Only the rows this rule matches (rule JSON v1), for a filtered count.")] JsonElement? Where = null,
    [property: Description("A number column to multiply the column by row by row (quantity × unit price).")] string? Times = null);

/// <summary>A grouping of a query: a column's values, a date column's periods or a number column's bins.</summary>
public sealed record ApiGroupBy(
    string Column,
    [property: Description("day, week, month, quarter or year for a date column.")]
    [property: JsonConverter(typeof(JsonStringEnumConverter<DateBucket>))] DateBucket? Bucket = null,
    [property: Description("The group's name in the result (the column's by default).")] string? Alias = null,
    [property: Description("Bins of this width for a number column (each named by its lower edge).")] double? BinWidth = null);

/// <summary>Sort by a result column.</summary>
public sealed record ApiSort(string Name, bool Descending = false);

/// <summary>
/// The question the app asks of a dataset (<see cref="QuerySpec"/>) as JSON: which rows (a rule in the portal's JSON v1
/// format, as segments store it), which columns row by row, or which groups and measures, in what order, how many.
/// </summary>
public sealed record ApiQuery
{
    [Description("Which rows: a rule tree in SegmentPortal's JSON v1 format ({\"version\":1,\"root\":{\"kind\":\"group\",...}}).")]
    public JsonElement? Filter { get; init; }

    [Description("Columns to return row by row (without groups and measures); every column you may see when empty.")]
    public IReadOnlyList<string>? Columns { get; init; }

    public IReadOnlyList<ApiGroupBy>? GroupBy { get; init; }

    public IReadOnlyList<ApiMeasure>? Measures { get; init; }

    public IReadOnlyList<ApiSort>? Sort { get; init; }

    [Description("Each customer once (the first of their rows), for customer lists.")]
    public bool DistinctCustomers { get; init; }

    [Description("Rows per page: 1 to 10,000 (1,000 by default).")]
    public int? Limit { get; init; }

    [Description("The next page: the cursor of the previous answer, with the same query.")]
    public string? Cursor { get; init; }
}

/// <summary>A query's answer: column names, rows of values in that order, and the cursor of the next page (null on the last).</summary>
public sealed record ApiQueryResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, string? Next);

/// <summary>The datasets endpoints of <see cref="ApiV1"/>: list, schema and query, through the permission layer.</summary>
public static class DatasetsApi
{
    public const int MaxQueryRows = 10_000;

    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder v1)
    {
        var datasets = v1.MapGroup("/datasets").WithTags("Datasets").RequireScope(ApiScopes.ReadData).ServedAsUser();

        datasets.MapGet("/", ListAsync)
            .WithName("ListDatasets")
            .WithSummary("List datasets")
            .WithDescription("The datasets you may use, ordered by id, 50 a page by default (`limit` up to 100). Row counts are of the rows " +
                "you may see. Pass the answer's `next` as `cursor` for the next page.");
        datasets.MapGet("/{id:int}/schema", SchemaAsync)
            .WithName("GetDatasetSchema")
            .WithSummary("A dataset's columns")
            .WithDescription("The columns you may see, with their role and type. Columns hidden from you by a column rule are not listed; " +
                "masked or hashed ones are marked `masked` (their values are text to you).");
        datasets.MapPost("/{id:int}/query", QueryAsync)
            .WithName("QueryDataset")
            .WithSummary("Query a dataset")
            .WithDescription("Runs the same question the app asks (filter rule, columns, groups, measures, sort, limit) over the rows and " +
                "columns you may see. A column hidden from you is refused (400). Example: " +
                "`{\"filter\":{\"version\":1,\"root\":{\"kind\":\"group\",\"combinator\":\"and\",\"children\":[{\"kind\":\"condition\",\"field\":\"region\",\"operator\":\"equals\",\"value\":\"North\"}]}}," +
                "\"groupBy\":[{\"column\":\"city\"}],\"measures\":[{\"kind\":\"count\",\"alias\":\"customers\"}],\"sort\":[{\"name\":\"customers\",\"descending\":true}],\"limit\":10}`.");
        return v1;
    }

    private static async Task<Results<Ok<ApiPage<ApiDataset>>, ProblemHttpResult>> ListAsync(
        DatasetCatalog catalog, string? cursor, int? limit, CancellationToken ct)
    {
        var all = (await catalog.ListAsync(ct)).Select(d => new ApiDataset(d.Id, d.Name, d.Kind, d.Source, d.RowCount, d.ColumnCount, d.RefreshedAt, d.Status));
        return ApiCursor.ById(all, d => d.Id, "datasets", cursor, limit) is { } page
            ? TypedResults.Ok(page)
            : ApiServing.BadRequest(ApiCursor.InvalidMessage);
    }

    private static async Task<Results<Ok<ApiSchema>, ProblemHttpResult>> SchemaAsync(int id, DatasetCatalog catalog, DatasetProfiler profiler, CancellationToken ct)
    {
        if (await catalog.GetAsync(id, ct) is not { } dataset)
        {
            return ApiServing.NotFound(MissingDataset);
        }
        var overview = await profiler.OverviewAsync(id, ct);
        var columns = overview.Columns.Select(c => new ApiColumn(c.Name, c.Role, c.Type, c.Treatment != ColumnTreatment.Visible, c.Treatment)).ToList();
        return TypedResults.Ok(new ApiSchema(dataset.Id, dataset.Name, overview.Rows, columns));
    }

    private static async Task<Results<Ok<ApiQueryResult>, ProblemHttpResult>> QueryAsync(
        int id, ApiQuery query, DatasetCatalog catalog, QueryService queries, CancellationToken ct)
    {
        if (await catalog.GetAsync(id, ct) is null)
        {
            return ApiServing.NotFound(MissingDataset);
        }
        var size = Math.Clamp(query.Limit ?? 1000, 1, MaxQueryRows);
        if (ApiCursor.Position(query.Cursor) is not { } offset || offset > int.MaxValue - size - 1)
        {
            return ApiServing.BadRequest(ApiCursor.InvalidMessage);
        }
        var whole = new QuerySpec
        {
            DatasetId = id,
            Filter = Rule(query.Filter, "filter"),
            Columns = query.Columns ?? [],
            GroupBy = (query.GroupBy ?? []).Select(g => new GroupBy(g.Column, g.Bucket, g.Alias) { BinWidth = g.BinWidth }).ToList(),
            Measures = (query.Measures ?? []).Select((m, i) => new Measure(m.Kind, m.Alias, m.Column, Rule(m.Where, $"measures[{i}].where"), m.Times)).ToList(),
            Sort = (query.Sort ?? []).Select(s => new SortBy(s.Name, s.Descending)).ToList(),
            DistinctCustomers = query.DistinctCustomers,
        };
        // The cursor is bound to the effective query (the question, the user's data rules, each dataset read at its
        // version): a cursor of another question, or given before the data changed, is refused.
        var scope = $"query:{QueryExecutor.CacheKey((await queries.CompileAsync(whole, ct)).Query)}";
        if (!ApiCursor.TryDecode(query.Cursor, scope, out _))
        {
            return ApiServing.BadRequest(ApiCursor.InvalidMessage);
        }
        var spec = whole with { Limit = size + 1, Offset = (int)offset };
        var result = await queries.RunAsync(spec, ct);
        var more = result.Rows.Count > size;
        return TypedResults.Ok(new ApiQueryResult(result.Columns, ApiValues.Rows(result.Rows.Take(size)), more ? ApiCursor.Encode(offset + size, scope) : null));
    }

    /// <summary>A rule given as JSON v1 (<see cref="RuleTree.FromJson"/>, which refuses anything else with the place it went wrong).</summary>
    internal static RuleGroup? Rule(JsonElement? json, string name)
    {
        if (json is not { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } element)
        {
            return null;
        }
        try
        {
            return RuleTree.FromJson(element.GetRawText()).Root;
        }
        catch (Core.PortalException ex)
        {
            throw new Core.PortalException($"{name}: {ex.Message}", ex);
        }
    }

    private const string MissingDataset = "That dataset does not exist or you do not have access to it.";
}
