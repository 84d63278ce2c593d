using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis.Rfm;

/// <summary>
/// Which transactions an RFM analysis reads and how it dates and values them. Saved with the analysis next to the
/// scoring settings (<see cref="RfmSettings"/>).
/// </summary>
public sealed record RfmInput
{
    /// <summary>The day recency is counted to; null for the day after the last order that counts.</summary>
    public DateOnly? ReferenceDate { get; init; }

    /// <summary>Only orders in the so many months before the reference date count; null for all of them.</summary>
    public int? WindowMonths { get; init; }

    /// <summary>Which rows count (e.g. not cancelled, quantity above 0), as a rule tree over the transactions; null for all.</summary>
    public string? RowsJson { get; init; }

    /// <summary>When set, Monetary is the sum of this column times the Amount column (which then holds the unit price).</summary>
    public string? QuantityColumn { get; init; }
}

/// <summary>
/// A dataset RFM can run on, and where its customer fields also appear. <see cref="NumberColumns"/> are the measures a
/// Monetary value can multiply the amount by: numbers that are not the customer, the order number, a dimension or the
/// amount itself (an identifier times a price means nothing).
/// </summary>
public sealed record RfmSource(int DatasetId, string Name, string CustomerKey, string Date, string Amount, string? OrderId, IReadOnlyList<string> NumberColumns)
{
    /// <summary>The column with the Quantity role, when it is one of <see cref="NumberColumns"/>.</summary>
    public string? Quantity { get; init; }

    /// <summary>
    /// What Monetary multiplies the amount by unless the user chooses: the quantity when the amount column is a unit
    /// price (its name says "price", e.g. UnitPrice), so an invoice line is worth quantity × unit price; else nothing
    /// (the amount is already the line's or the order's value).
    /// </summary>
    public string? DefaultQuantity => Quantity is not null && Amount.Contains("price", StringComparison.OrdinalIgnoreCase) ? Quantity : null;

    /// <summary>What Frequency is counted in: orders when there is an order number, else purchase days.</summary>
    public RfmFrequencyUnit FrequencyUnit => OrderId is null ? RfmFrequencyUnit.PurchaseDays : RfmFrequencyUnit.Orders;

    /// <summary>What Frequency counts: distinct order numbers, or distinct purchase days when there is no order number.</summary>
    public string FrequencyCounts => OrderId is { } order ? $"distinct {order} values" : $"purchase days (distinct days of {Date}; no order number column)";
}

/// <summary>The saved analysis of a dataset, as the page shows it.</summary>
public sealed record RfmView(RfmSource Source, RfmInput Input, RfmSettings Settings, RfmSummary? Result, DateTimeOffset? ComputedAt)
{
    /// <summary>Set when <see cref="Result"/> is not the saved result but a recount over the user's rows (<see cref="RfmService.RecountedNotice"/>).</summary>
    public string? Notice { get; init; }

    /// <summary>Whether the user may compute the analysis (again): anyone who manages data before the first computation, then its owner, the dataset's owner or an Admin.</summary>
    public bool CanChange { get; init; }
}

/// <summary>A computation's outcome without the per-customer rows (those live in the customer fields' table).</summary>
public sealed record RfmSummary(
    DateOnly ReferenceDate,
    DateOnly? WindowStart,
    int Customers,
    double TotalRevenue,
    long RowsCounted,
    IReadOnlyList<RfmGroupSummary> Groups,
    RfmHeatmap Heatmap,
    IReadOnlyList<RfmDimensionPreview> Dimensions,
    TimeSpan Elapsed)
{
    /// <summary>
    /// What Frequency counted when this was computed (orders or purchase days), so its bins and averages are called
    /// that; null in a result saved before it was recorded, which <see cref="RfmService.GetAsync"/> fills from the dataset's roles.
    /// </summary>
    public RfmFrequencyUnit? FrequencyUnit { get; init; }
}

/// <summary>
/// Runs RFM on a transaction dataset through the query layer (one grouped read per customer), scores and groups the
/// customers (<see cref="RfmAnalysis"/>), and publishes R, F, M, the scores and the group as customer fields.
/// </summary>
public sealed class RfmService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    CustomerAttributeStore attributes,
    SegmentService segments,
    IPortalDbFactory dbFactory,
    TimeProvider clock)
{
    public const string GroupField = "RFM group";
    public const string ScoreField = "RFM score";
    public const string AttributeName = "RFM";

    /// <summary>What a user with data rules on the transactions is told: the figures they see are recounted over their rows.</summary>
    public const string RecountedNotice =
        "The saved analysis counts rows your data rules do not let you see, so these figures are counted again over your rows with its settings. Its customer fields are not offered to you.";

    /// <summary>The customer fields an analysis publishes, in the order of the attribute table's columns.</summary>
    public static IReadOnlyList<AttributeColumn> Fields { get; } =
    [
        new("RFM recency (days)", "recency_days", ColumnType.Integer, FieldRole.Measure),
        new("RFM frequency (orders)", "frequency", ColumnType.Integer, FieldRole.Measure),
        new("RFM monetary", "monetary", ColumnType.Decimal, FieldRole.Measure),
        new("RFM R score", "r_score", ColumnType.Integer),
        new("RFM F score", "f_score", ColumnType.Integer),
        new("RFM M score", "m_score", ColumnType.Integer),
        new(ScoreField, "rfm_score", ColumnType.Text, FieldRole.Dimension),
        new(GroupField, "rfm_group", ColumnType.Text, FieldRole.Dimension),
    ];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Readable datasets with Customer ID, date and amount roles.</summary>
    public async Task<IReadOnlyList<RfmSource>> SourcesAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var ids = await db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready).OrderBy(d => d.Name).Select(d => d.Id).ToListAsync(cancellationToken);
        var result = new List<RfmSource>();
        foreach (var id in ids)
        {
            if (await access.FindReadableAsync(id, cancellationToken) is { } dataset && SourceOf(await policy.DescribeAsync(dataset, cancellationToken)) is { } source)
            {
                result.Add(source);
            }
        }
        return result;
    }

    /// <summary>
    /// The RFM inputs of a dataset as the current user may see it: a hidden key, date or amount means no RFM, a masked
    /// date or amount is not a date or an amount, and only visible number columns are offered as quantities.
    /// </summary>
    public static RfmSource? SourceOf(QueryDataset view)
    {
        string? Role(FieldRole role, FieldKind? kind = null) => view.OwnFields.FirstOrDefault(f => f.Role == role && (kind is null || f.Kind == kind))?.Name;
        var numbers = view.OwnFields.Where(f => f.Kind == FieldKind.Number && IsMeasure(f.Role)).Select(f => f.Name).ToList();
        return Role(FieldRole.CustomerId) is { } key && Role(FieldRole.EventDate, FieldKind.Date) is { } date && Role(FieldRole.Amount, FieldKind.Number) is { } amount
            ? new RfmSource(view.Id, view.Name, key, date, amount, Role(FieldRole.OrderId), numbers) { Quantity = Role(FieldRole.Quantity, FieldKind.Number) }
            : null;
    }

    public static RfmSource? SourceOf(Dataset dataset)
    {
        string? Role(FieldRole role) => dataset.Columns.FirstOrDefault(c => c.Role == role && !c.IsExcluded)?.Name;
        var numbers = dataset.Columns.Where(c => !c.IsExcluded && c.Type is ColumnType.Integer or ColumnType.Decimal && IsMeasure(c.Role))
            .OrderBy(c => c.Ordinal).Select(c => c.Name).ToList();
        return Role(FieldRole.CustomerId) is { } key && Role(FieldRole.EventDate) is { } date && Role(FieldRole.Amount) is { } amount
            ? new RfmSource(dataset.Id, dataset.Name, key, date, amount, Role(FieldRole.OrderId), numbers) { Quantity = numbers.FirstOrDefault(n => n == Role(FieldRole.Quantity)) }
            : null;
    }

    /// <summary>Number columns that hold amounts of something: not identifiers, dimensions, dates or the amount.</summary>
    private static bool IsMeasure(FieldRole role) => role is FieldRole.None or FieldRole.Quantity or FieldRole.Measure;

    /// <summary>
    /// The dataset's analysis, or the defaults when there is none: Monetary the sum of quantity × unit price when the
    /// dataset has a quantity and its amount is a unit price (<see cref="RfmSource.DefaultQuantity"/>), else the sum of
    /// the amount. The saved result counts the rows of whoever computed it: a user with row or column rules on the
    /// transactions gets it counted again over their rows (<see cref="LiveAsync"/>, with <see cref="RfmView.Notice"/>
    /// set), never the saved figures.
    /// </summary>
    public async Task<RfmView> GetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var view = await StoredAsync(datasetId, cancellationToken);
        if (view.ComputedAt is null || !(await policy.DescribeAsync(await access.RequireReadableAsync(datasetId, cancellationToken), cancellationToken)).IsRestricted)
        {
            return view;
        }
        return view with { Result = view.Result is null ? null : await RecountAsync(view, cancellationToken), Notice = RecountedNotice };
    }

    /// <summary>The saved analysis as stored, whoever's rows it counted: for the service's own use, never handed to a page as is.</summary>
    private async Task<RfmView> StoredAsync(int datasetId, CancellationToken cancellationToken)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var source = await RequireSourceAsync(datasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.RfmRuns.AsNoTracking().FirstOrDefaultAsync(r => r.DatasetId == datasetId, cancellationToken);
        var canChange = Permissions.IsGranted(user, Permissions.ManageData) && (run is null || MayRecompute(user, run, dataset));
        if (run is null)
        {
            return new RfmView(source, new RfmInput { QuantityColumn = source.DefaultQuantity }, RfmSettings.Default, null, null) { CanChange = canChange };
        }
        var saved = JsonSerializer.Deserialize<SavedSettings>(run.SettingsJson, Json)!;
        var summary = run.ResultJson is null ? null : RfmResultJson.Read(run.ResultJson);
        if (summary is { FrequencyUnit: null })
        {
            summary = summary with { FrequencyUnit = source.FrequencyUnit };
        }
        return new RfmView(source, saved.Input, RfmSettings.FromJson(saved.Scoring), summary, run.ComputedAt) { CanChange = canChange };
    }

    /// <summary>A saved analysis is computed again only by its owner, the dataset's owner or an Admin: others would narrow it to their rows for everyone.</summary>
    private static bool MayRecompute(System.Security.Claims.ClaimsPrincipal user, RfmRun run, Dataset dataset) =>
        (run.OwnerId is not null && run.OwnerId == user.UserId()) || Authorizer.CanChange(user, dataset);

    /// <summary>
    /// Computes the analysis, saves it with its settings, and replaces the dataset's RFM customer fields. Bad settings
    /// (a reversed window, an incomplete rows rule, invalid cut points) are refused before anything is read.
    /// </summary>
    public async Task<RfmView> ComputeAsync(int datasetId, RfmInput input, RfmSettings settings, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        settings.Validate();
        var source = await RequireSourceAsync(datasetId, cancellationToken);
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        await using (var existing = await dbFactory.CreateAsync(cancellationToken))
        {
            if (await existing.RfmRuns.AsNoTracking().FirstOrDefaultAsync(r => r.DatasetId == datasetId, cancellationToken) is { } saved && !MayRecompute(user, saved, dataset))
            {
                throw new PermissionDeniedException($"Only the owner of this RFM analysis, the owner of {dataset.Name} or an Admin can compute it again.");
            }
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var rows = ParseRows(input);
        if (rows is not null && (await queries.CheckAsync(datasetId, rows, cancellationToken)) is { Count: > 0 } problems)
        {
            throw new PortalException($"The rule for which rows count is not complete: {problems[0].Message}");
        }
        if (input.WindowMonths is < 1 or > 1200)
        {
            throw new PortalException("The analysis window must be between 1 and 1,200 months.");
        }
        if (input.QuantityColumn is { } q && !source.NumberColumns.Contains(q))
        {
            throw new PortalException($"{dataset.Name} has no measure column \"{q}\" for the quantity (identifiers, dimensions and the amount cannot be one).");
        }

        var (keys, analysis, rowsCounted, reference, windowStart) = await AnalyzeAsync(source, input, rows, settings, cancellationToken);

        var keyType = dataset.Columns.First(c => c.Name == source.CustomerKey).Type;
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.RfmRuns.FirstOrDefaultAsync(r => r.DatasetId == datasetId, cancellationToken)
            ?? db.RfmRuns.Add(new RfmRun { DatasetId = datasetId, SettingsJson = "{}", OwnerId = user.UserId(), CreatedAt = clock.GetUtcNow() }).Entity;
        run.SettingsJson = JsonSerializer.Serialize(new SavedSettings(input, settings.ToJson()), Json);
        if (run.Id == 0)
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        await attributes.WriteAsync(AttributeSetKind.Rfm, run.Id, datasetId, AttributeName, keyType, Fields,
            analysis.Customers.Select((c, i) => new object?[] { keys[i], c.RecencyDays, c.Frequency, c.Monetary, c.R, c.F, c.M, c.Score, c.Group }),
            cancellationToken);
        var summary = new RfmSummary(reference, windowStart, analysis.Customers.Count, analysis.TotalRevenue, rowsCounted,
            analysis.Groups, analysis.Heatmap, analysis.Dimensions, System.Diagnostics.Stopwatch.GetElapsedTime(started)) { FrequencyUnit = source.FrequencyUnit };
        run.ResultJson = RfmResultJson.Write(summary);
        run.Customers = summary.Customers;
        run.TotalMonetary = summary.TotalRevenue;
        run.ComputedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return new RfmView(source, input, settings, summary, run.ComputedAt) { CanChange = true };
    }

    /// <summary>
    /// The analysis as the current user may see the data: the saved settings over the rows their data rules allow,
    /// computed through the query layer and not saved. Saved results are counted over the rows of whoever computed them;
    /// <see cref="GetAsync"/> gives this to a user with row or column rules on the data instead.
    /// </summary>
    public async Task<RfmSummary?> LiveAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var view = await StoredAsync(datasetId, cancellationToken);
        return view.Result is null ? null : await RecountAsync(view, cancellationToken);
    }

    /// <summary>The saved settings counted over the current user's rows (the saved reference date kept, so recency matches).</summary>
    private async Task<RfmSummary?> RecountAsync(RfmView view, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var input = view.Input with { ReferenceDate = view.Input.ReferenceDate ?? view.Result?.ReferenceDate };
        try
        {
            var (_, analysis, rowsCounted, reference, windowStart) = await AnalyzeAsync(view.Source, input, ParseRows(input), view.Settings, cancellationToken);
            return new RfmSummary(reference, windowStart, analysis.Customers.Count, analysis.TotalRevenue, rowsCounted,
                analysis.Groups, analysis.Heatmap, analysis.Dimensions, System.Diagnostics.Stopwatch.GetElapsedTime(started)) { FrequencyUnit = view.Source.FrequencyUnit };
        }
        catch (PortalException ex) when (ex is not PermissionDeniedException)
        {
            // No rows of theirs count under these settings: nothing to show, rather than someone else's numbers.
            return null;
        }
    }

    private async Task<(object[] Keys, RfmResult Analysis, long RowsCounted, DateOnly Reference, DateOnly? WindowStart)> AnalyzeAsync(
        RfmSource source, RfmInput input, RuleGroup? rows, RfmSettings settings, CancellationToken cancellationToken)
    {
        // With neither a reference date nor a window, every counted row is before the day after the last one: the
        // grouped read needs no date bound, and the reference comes from its customers' last orders instead of a pass of
        // its own over the transactions.
        var referenceFromRead = input.ReferenceDate is null && input.WindowMonths is null;
        var reference = input.ReferenceDate ?? (referenceFromRead
            ? DateOnly.MinValue // set from the read below
            : (await LastOrderAsync(source, rows, cancellationToken))?.AddDays(1) ?? throw new PortalException(NoOrders));
        var windowStart = input.WindowMonths is { } months ? reference.AddMonths(-months) : (DateOnly?)null;
        var filter = RowsFilter(source, rows, referenceFromRead ? null : reference, windowStart);

        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = source.DatasetId,
            Filter = filter,
            GroupBy = [new GroupBy(source.CustomerKey, Alias: "customer")],
            Measures =
            [
                new Measure(MeasureKind.Max, "last", source.Date),
                // Distinct order numbers; without one, distinct purchase days (rows would count invoice lines as orders).
                source.OrderId is { } order ? new Measure(MeasureKind.CountDistinct, "orders", order) : new Measure(MeasureKind.Days, "orders", source.Date),
                input.QuantityColumn is { } quantity ? new Measure(MeasureKind.Sum, "monetary", quantity, Times: source.Amount) : new Measure(MeasureKind.Sum, "monetary", source.Amount),
                new Measure(MeasureKind.Count, "rows"),
            ],
        }, cancellationToken);

        var keys = new object[result.Rows.Count];
        var customers = new RfmCustomer[result.Rows.Count];
        var lastDays = new int[result.Rows.Count];
        for (var i = 0; i < lastDays.Length; i++)
        {
            lastDays[i] = ToDate(result.Rows[i][1]).DayNumber;
        }
        if (referenceFromRead)
        {
            reference = lastDays.Length == 0 ? throw new PortalException(NoOrders) : DateOnly.FromDayNumber(lastDays.Max()).AddDays(1);
        }
        long rowsCounted = 0;
        for (var i = 0; i < result.Rows.Count; i++)
        {
            var row = result.Rows[i];
            keys[i] = row[0]!;
            customers[i] = new RfmCustomer(
                Convert.ToString(row[0], CultureInfo.InvariantCulture) ?? "",
                reference.DayNumber - lastDays[i],
                (int)(QueryValue.ToDouble(row[2]) ?? 0),
                QueryValue.ToDouble(row[3]) ?? 0);
            rowsCounted += (long)(QueryValue.ToDouble(row[4]) ?? 0);
        }
        // Off the caller's thread (a Blazor circuit): scoring a million customers takes a moment.
        var analysis = await Task.Run(() => RfmAnalysis.Analyze(customers, settings), cancellationToken);

        return (keys, analysis, rowsCounted, reference, windowStart);
    }

    private const string NoOrders = "No orders count under these settings, so there is nothing to analyse.";

    /// <summary>
    /// Saves an RFM group as a segment ("RFM group is At risk") on the customer list related to the transactions when
    /// there is one, else on the transactions' customers. The segment follows the group when RFM is computed again.
    /// </summary>
    public async Task<int> SaveGroupAsSegmentAsync(int datasetId, string group, string? name = null, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        // The segment is a rule over the RFM field, read under each user's rules: the stored settings are all it needs.
        var view = await StoredAsync(datasetId, cancellationToken);
        if (view.Result is null)
        {
            throw new PortalException("Compute the RFM analysis first.");
        }
        if (!view.Settings.Grid.Groups.Any(g => g.Name == group))
        {
            throw new PortalException($"There is no RFM group \"{group}\".");
        }
        var target = await CustomerListAsync(datasetId, cancellationToken) ?? datasetId;
        var rule = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = GroupField, Operator = RuleOperator.In, Values = [group] }] } };
        var description = view.Settings.Grid.Groups.First(g => g.Name == group).Description;
        return await segments.CreateAsync(new SegmentDraft(string.IsNullOrWhiteSpace(name) ? $"RFM: {group}" : name.Trim(), target, rule,
            $"{description} (RFM of {view.Source.Name})", ["RFM"]), cancellationToken);
    }

    /// <summary>
    /// A readable dataset related to the transactions by the customer key (<see cref="DatasetRelations.RelatedByCustomerKeyAsync"/>),
    /// customer lists first: there the RFM fields are joined on the key, so a group's segment selects its customers.
    /// </summary>
    internal async Task<int?> CustomerListAsync(int datasetId, CancellationToken cancellationToken)
    {
        IReadOnlyList<CustomerKeyRelation> related;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            related = await DatasetRelations.RelatedByCustomerKeyAsync(db, datasetId, cancellationToken);
        }
        var readable = new List<Dataset>();
        foreach (var relation in related)
        {
            if (await access.FindReadableAsync(relation.DatasetId, cancellationToken) is { } list)
            {
                readable.Add(list);
            }
        }
        return readable.OrderByDescending(d => d.Kind == DatasetKind.Customers).FirstOrDefault()?.Id;
    }

    private async Task<RfmSource> RequireSourceAsync(int datasetId, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        return SourceOf(await policy.DescribeAsync(dataset, cancellationToken)) ?? throw new PortalException(
            $"{dataset.Name} needs Customer ID, date and amount roles for RFM. Set them on the dataset's Columns & roles tab.");
    }

    private async Task<DateOnly?> LastOrderAsync(RfmSource source, RuleGroup? rows, CancellationToken cancellationToken)
    {
        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = source.DatasetId,
            Filter = RowsFilter(source, rows, null, null),
            Measures = [new Measure(MeasureKind.Max, "last", source.Date)],
        }, cancellationToken);
        return result.Rows.Count == 0 || result.Rows[0][0] is null ? null : ToDate(result.Rows[0][0]);
    }

    private static RuleGroup? ParseRows(RfmInput input) =>
        string.IsNullOrWhiteSpace(input.RowsJson) ? null : RuleTree.FromJson(input.RowsJson).Root is { Children.Count: > 0 } root ? root : null;

    /// <summary>Rows with a customer and a date, meeting the user's rule, before the reference date and in the window.</summary>
    private static RuleGroup RowsFilter(RfmSource source, RuleGroup? rows, DateOnly? reference, DateOnly? windowStart)
    {
        var filter = new RuleGroup
        {
            Children =
            [
                new FieldCondition { Field = source.CustomerKey, Operator = RuleOperator.IsNotEmpty },
                new FieldCondition { Field = source.Date, Operator = RuleOperator.IsNotEmpty },
            ],
        };
        if (rows is not null)
        {
            filter.Children.Add(rows);
        }
        if (reference is { } end)
        {
            filter.Children.Add(windowStart is { } start
                ? new FieldCondition { Field = source.Date, Operator = RuleOperator.Between, Value = Iso(start), Value2 = Iso(end.AddDays(-1)) }
                : new FieldCondition { Field = source.Date, Operator = RuleOperator.Before, Value = Iso(end) });
        }
        return filter;
    }

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateOnly ToDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.UtcDateTime),
        _ => DateOnly.FromDateTime(Convert.ToDateTime(value, CultureInfo.InvariantCulture)),
    };

    private sealed record SavedSettings(RfmInput Input, string Scoring);
}

/// <summary>The stored form of an <see cref="RfmSummary"/>.</summary>
internal static class RfmResultJson
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string Write(RfmSummary summary) => JsonSerializer.Serialize(summary, Json);

    public static RfmSummary? Read(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<RfmSummary>(json, Json);
        }
        catch (JsonException)
        {
            // A result saved by an older version: the page offers to compute again.
            return null;
        }
    }
}
