using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>A dataset's lifetime-value analysis as its page shows it.</summary>
/// <param name="Result">The last completed result; null before one, or when it is withheld from the user (<see cref="Notice"/>).</param>
public sealed record LifetimeView(RfmSource Source, LifetimeSettings Settings, LifetimeRunStatus? Status, string? Error, LifetimeResult? Result, DateTimeOffset? ComputedAt)
{
    /// <summary>Why the saved result is not shown (it was computed over data the user sees differently).</summary>
    public string? Notice { get; init; }

    /// <summary>Whether the user may run it (again): Analysts and Admins; a saved analysis only its owner, the dataset's owner or an Admin.</summary>
    public bool CanChange { get; init; }

    /// <summary>The key of the analysis's job, for its progress and cancel.</summary>
    public string JobKey { get; init; } = "";
}

/// <summary>
/// Lifetime value (BG/NBD for how often customers buy and whether they are still "alive", Gamma-Gamma for how much they
/// spend): one analysis per transaction dataset, run in the background (<see cref="LifetimeAnalyzer"/>), checked on a
/// held-out period, its per-customer predictions published as customer fields (<see cref="Fields"/>) like RFM's.
/// </summary>
public sealed class LifetimeService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    RfmService rfm,
    Segments.SegmentService segments,
    QueryService queries,
    JobQueue jobs,
    CustomerAttributeStore attributes,
    IPortalDbFactory dbFactory,
    TimeProvider clock)
{
    public const string JobKind = "lifetime-value";
    public const string AttributeName = "Lifetime value";
    public const string AliveField = "P(alive)";
    public const string PurchasesField = "Expected purchases";
    public const string SpendField = "Expected spend";
    public const string ValueField = "CLV";
    public const string RepeatsField = "Repeat purchases";

    public const string WithheldNotice =
        "This analysis was computed over data you see differently (your data rules limit the rows or columns it read), so its figures are not shown to you.";

    /// <summary>The customer fields an analysis publishes, in the order of the attribute table's columns.</summary>
    public static IReadOnlyList<AttributeColumn> Fields { get; } =
    [
        new(AliveField, "p_alive", ColumnType.Decimal, FieldRole.Measure),
        new(PurchasesField, "expected_purchases", ColumnType.Decimal, FieldRole.Measure),
        new(SpendField, "expected_spend", ColumnType.Decimal, FieldRole.Measure),
        new(ValueField, "clv", ColumnType.Decimal, FieldRole.Measure),
        new(RepeatsField, "repeat_purchases", ColumnType.Integer, FieldRole.Measure),
    ];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly SemaphoreSlim Starting = new(1, 1);

    public static string JobKeyOf(int datasetId) => $"lifetime:{datasetId}";

    /// <summary>Readable datasets with Customer ID, date and amount roles (those RFM runs on).</summary>
    public Task<IReadOnlyList<RfmSource>> SourcesAsync(CancellationToken cancellationToken = default) => rfm.SourcesAsync(cancellationToken);

    /// <summary>
    /// The day the calibration period ends by default: three quarters of the way from the first purchase to the last,
    /// so the last quarter of the history checks the model.
    /// </summary>
    public static DateOnly DefaultCalibrationEnd(DateOnly first, DateOnly last) =>
        DateOnly.FromDayNumber(first.DayNumber + (int)Math.Round(0.75 * (last.DayNumber - first.DayNumber)));

    /// <summary>The first and last purchase day that count for the current user (for the settings' defaults); null without any.</summary>
    public async Task<(DateOnly First, DateOnly Last)?> SpanAsync(int datasetId, string? rowsJson, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var source = await RequireSourceAsync(datasetId, cancellationToken);
        var filter = new RuleGroup { Children = [new FieldCondition { Field = source.CustomerKey, Operator = RuleOperator.IsNotEmpty }] };
        if (ParseRows(rowsJson) is { } rows)
        {
            filter.Children.Add(rows);
        }
        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = filter,
            Measures = [new Measure(MeasureKind.Min, "first", source.Date), new Measure(MeasureKind.Max, "last", source.Date)],
        }, cancellationToken);
        return result.Rows.Count == 0 || result.Rows[0][0] is null || result.Rows[0][1] is null ? null : (ToDate(result.Rows[0][0]), ToDate(result.Rows[0][1]));
    }

    /// <summary>
    /// The dataset's analysis: its settings (the defaults before a first run), the state of its run, and its result —
    /// withheld from a user who sees the transactions differently from the user who ran it (their rules would make
    /// other figures), who can run it over their own rows only if they may run it at all.
    /// </summary>
    public async Task<LifetimeView> GetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        var source = await RequireSourceAsync(datasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var run = await db.LifetimeRuns.AsNoTracking().FirstOrDefaultAsync(r => r.DatasetId == datasetId, cancellationToken);
        var canChange = Permissions.IsGranted(user, Permissions.ManageData) && !ViewAsState.IsViewAs(user) && (run is null || MayRun(user, run, dataset));
        if (run is null)
        {
            return new LifetimeView(source, new LifetimeSettings(), null, null, null, null) { CanChange = canChange, JobKey = JobKeyOf(datasetId) };
        }
        var status = run.Status == LifetimeRunStatus.Running && jobs.Latest(JobKeyOf(datasetId)) is not { IsActive: true }
            ? LifetimeRunStatus.Failed // left running by a stop the recovery has not seen yet
            : run.Status;
        var result = run.ResultJson is null ? null : JsonSerializer.Deserialize<LifetimeResult>(run.ResultJson, Json);
        string? notice = null;
        if (result is not null && await access.ViewKeyAsync([datasetId], cancellationToken) is { } key && key != result.ComputedOver)
        {
            result = null;
            notice = WithheldNotice;
        }
        return new LifetimeView(source, ReadSettings(run.SettingsJson), status, run.Error, result, run.ComputedAt)
        {
            Notice = notice,
            CanChange = canChange,
            JobKey = JobKeyOf(datasetId),
        };
    }

    /// <summary>
    /// Checks the settings and starts the analysis in the background (job key <see cref="JobKeyOf"/>: progress and
    /// cancel). Bad settings are refused before anything is read; a running analysis is not started twice.
    /// </summary>
    public async Task<JobSnapshot> StartAsync(int datasetId, LifetimeSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        await RequireSourceAsync(datasetId, cancellationToken);
        if (settings.Problem() is { } problem)
        {
            throw new PortalException(problem);
        }
        if (ParseRows(settings.RowsJson) is { } rows && (await queries.CheckAsync(datasetId, rows, cancellationToken)) is { Count: > 0 } problems)
        {
            throw new PortalException($"The rule for which rows count is not complete: {problems[0].Message}");
        }
        if (settings.CalibrationEnd is { } end && await SpanAsync(datasetId, settings.RowsJson, cancellationToken) is { } span && (end <= span.First || end >= span.Last))
        {
            throw new PortalException($"The calibration period must end after the first purchase ({span.First:yyyy-MM-dd}) and before the last ({span.Last:yyyy-MM-dd}).");
        }
        await Starting.WaitAsync(cancellationToken);
        try
        {
            if (jobs.Latest(JobKeyOf(datasetId)) is { IsActive: true })
            {
                throw new PortalException($"The lifetime value of {dataset.Name} is already being computed. Wait for it to finish, or cancel it first.");
            }
            await using var db = await dbFactory.CreateAsync(cancellationToken);
            var run = await db.LifetimeRuns.FirstOrDefaultAsync(r => r.DatasetId == datasetId, cancellationToken);
            if (run is not null && !MayRun(user, run, dataset))
            {
                throw new PermissionDeniedException($"Only the owner of this analysis, the owner of {dataset.Name} or an Admin can compute it again.");
            }
            run ??= db.LifetimeRuns.Add(new LifetimeRun { DatasetId = datasetId, SettingsJson = "{}", OwnerId = user.UserId(), CreatedAt = clock.GetUtcNow() }).Entity;
            run.SettingsJson = JsonSerializer.Serialize(settings, Json);
            run.Status = LifetimeRunStatus.Running;
            run.Error = null;
            run.StartedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            return jobs.Enqueue(JobRequest.For(JobKind, $"Lifetime value of {dataset.Name}", JobKeyOf(datasetId), user, new LifetimeComputation(run.Id),
                datasetId.ToString(CultureInfo.InvariantCulture)));
        }
        finally
        {
            Starting.Release();
        }
    }

    /// <summary>
    /// Saves "P(alive) below <paramref name="maxAlive"/> and CLV in the top <paramref name="topValuePercent"/>%" as a
    /// segment on the customer list related to the transactions (else on the transactions' customers): valuable customers
    /// who are slipping away. The top per cent becomes a CLV threshold from the analysis (said in the description); the
    /// fields follow the analysis when it runs again.
    /// </summary>
    public async Task<int> SaveSegmentAsync(int datasetId, double? maxAlive, double? topValuePercent, string? name = null, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageData);
        var view = await GetAsync(datasetId, cancellationToken);
        var result = view.Result ?? throw new PortalException(view.Notice ?? "Compute the lifetime value first.");
        if (maxAlive is null && topValuePercent is null)
        {
            throw new PortalException("Choose a P(alive) limit, a top share of CLV, or both.");
        }
        if (maxAlive is < 0 or > 1 || (maxAlive is { } m && !double.IsFinite(m)))
        {
            throw new PortalException("P(alive) is between 0 and 1 (0.3 is 30%).");
        }
        var conditions = new List<RuleNode>();
        var words = new List<string>();
        var title = new List<string>();
        if (maxAlive is { } alive)
        {
            conditions.Add(new FieldCondition { Field = AliveField, Operator = RuleOperator.Less, Value = alive.ToString("0.###", CultureInfo.InvariantCulture) });
            words.Add($"P(alive) below {alive:0.###}");
            title.Add($"P(alive) < {alive:0.###}");
        }
        if (topValuePercent is { } top)
        {
            var threshold = result.TopValueThreshold(top) ?? throw new PortalException("Choose a top share of CLV from 1% to 100%.");
            conditions.Add(new FieldCondition { Field = ValueField, Operator = RuleOperator.GreaterOrEqual, Value = threshold.ToString("0.##", CultureInfo.InvariantCulture) });
            words.Add($"CLV in the top {top:0.#}% (CLV ≥ {threshold:N2} when the analysis ran)");
            title.Add($"CLV top {top:0.#}%");
        }
        var target = await rfm.CustomerListAsync(datasetId, cancellationToken) ?? datasetId;
        var rule = new RuleTree { Root = new RuleGroup { Children = conditions } };
        var text = string.Join(" and ", words);
        return await segments.CreateAsync(new Segments.SegmentDraft(string.IsNullOrWhiteSpace(name) ? string.Join(" and ", title) : name.Trim(), target, rule,
            $"{text} (lifetime value of {view.Source.Name})", ["Lifetime value"]), cancellationToken);
    }

    /// <summary>Removes the dataset's analysis and its customer fields (only who may run it again; not while it runs).</summary>
    public async Task DeleteAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        if (await db.LifetimeRuns.FirstOrDefaultAsync(r => r.DatasetId == datasetId, cancellationToken) is not { } run)
        {
            return;
        }
        if (!MayRun(user, run, dataset))
        {
            throw new PermissionDeniedException($"Only the owner of this analysis, the owner of {dataset.Name} or an Admin can remove it.");
        }
        if (jobs.Latest(JobKeyOf(datasetId)) is { IsActive: true })
        {
            throw new PortalException("Cancel the running analysis before removing it.");
        }
        await attributes.RemoveAsync(AttributeSetKind.Lifetime, run.Id, cancellationToken);
        db.LifetimeRuns.Remove(run);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>A saved analysis is run again only by its owner, the dataset's owner or an Admin: others would narrow it to their rows for everyone.</summary>
    private static bool MayRun(System.Security.Claims.ClaimsPrincipal user, LifetimeRun run, Dataset dataset) =>
        (run.OwnerId is not null && run.OwnerId == user.UserId()) || Authorizer.CanChange(user, dataset);

    private async Task<RfmSource> RequireSourceAsync(int datasetId, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        return RfmService.SourceOf(await policy.DescribeAsync(dataset, cancellationToken)) ?? throw new PortalException(
            $"{dataset.Name} needs Customer ID, date and amount roles for lifetime value. Set them on the dataset's Columns & roles tab.");
    }

    internal static LifetimeSettings ReadSettings(string json) =>
        (string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize<LifetimeSettings>(json, Json)) ?? new LifetimeSettings();

    internal static RuleGroup? ParseRows(string? rowsJson) =>
        string.IsNullOrWhiteSpace(rowsJson) ? null : RuleTree.FromJson(rowsJson).Root is { Children.Count: > 0 } root ? root : null;

    private static DateOnly ToDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.UtcDateTime),
        _ => DateOnly.FromDateTime(Convert.ToDateTime(value, CultureInfo.InvariantCulture)),
    };
}
