using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Analysis.Survival;

/// <summary>
/// Survival analysis of customers: Kaplan–Meier curves of the time from a customer's first purchase to churn (no
/// purchase for D days) or to their second purchase, by a grouping, with the log-rank test between the groups. Every
/// read goes through the query layer with the asking user's data rules. An analysis runs as a background job (progress,
/// cancel, Retry after a restart); its result is kept per user and dataset as a file in the data folder.
/// </summary>
public sealed class SurvivalService(
    ICurrentUser currentUser,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    SegmentService segments,
    JobQueue jobs,
    StoragePaths paths,
    IPortalDbFactory dbFactory,
    TimeProvider clock)
{
    public const string JobKind = "survival";

    /// <summary>Fewer customers than this give curves too rough to read.</summary>
    public const int MinCustomers = 10;

    /// <summary>More groups than this are merged: the smallest go into "Other".</summary>
    public const int MaxGroups = 10;

    public const string Other = "Other";

    /// <summary>Told when the stored result was computed under data rules that have changed since.</summary>
    public const string ChangedNotice = "Your data rules changed since this analysis ran, so it is not shown. Run it again to see your customers' curves.";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Readable, ready datasets with a Customer ID and a date the user may see; transaction logs first (a customer list's
    /// one date, e.g. the sign-up, makes no purchase history), then by name.
    /// </summary>
    public async Task<IReadOnlyList<SurvivalSource>> SourcesAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var ids = await db.Datasets.AsNoTracking().Where(d => d.Status == DatasetStatus.Ready)
            .OrderBy(d => d.Kind == DatasetKind.Transactions ? 0 : 1).ThenBy(d => d.Name).Select(d => d.Id).ToListAsync(cancellationToken);
        var result = new List<SurvivalSource>();
        foreach (var id in ids)
        {
            if (await access.FindReadableAsync(id, cancellationToken) is { } dataset && SourceOf(await policy.DescribeAsync(dataset, cancellationToken)) is { } source)
            {
                result.Add(source);
            }
        }
        return result;
    }

    /// <summary>The customer and date of a dataset as the user sees it; null without both (a masked date is no date).</summary>
    public static SurvivalSource? SourceOf(QueryDataset view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var key = view.OwnFields.FirstOrDefault(f => f.Role == FieldRole.CustomerId)?.Name;
        var date = view.OwnFields.FirstOrDefault(f => f.Role == FieldRole.EventDate && f.Kind == FieldKind.Date && f.Treatment == ColumnTreatment.Visible)?.Name;
        return key is not null && date is not null ? new SurvivalSource(view.Id, view.Name, key, date) : null;
    }

    /// <summary>
    /// The groupings a dataset offers: its dimensions and analysis fields (RFM group, clusters), the dimensions of
    /// customer lists related to it by the customer key, the segments on either, and the cohort month.
    /// </summary>
    public async Task<IReadOnlyList<SurvivalGroupingOption>> GroupingsAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var source = await RequireSourceAsync(datasetId, cancellationToken);
        var options = new List<SurvivalGroupingOption>
        {
            new(SurvivalGrouping.None, "No grouping (all customers)", ""),
            new(new SurvivalGrouping(SurvivalGroupingKind.CohortMonth), "Cohort (month of first purchase)", ""),
        };
        var view = await policy.DescribeAsync(await access.RequireReadableAsync(datasetId, cancellationToken), cancellationToken);
        foreach (var field in view.Fields.Where(f => IsGroupingField(f, source)))
        {
            options.Add(new(new SurvivalGrouping(SurvivalGroupingKind.Field, field.Name, datasetId), field.Name, field.Source is null ? view.Name : "Analysis field"));
        }
        var lists = await CustomerListsAsync(datasetId, cancellationToken);
        foreach (var (list, _) in lists)
        {
            var listView = await policy.DescribeAsync(list, cancellationToken);
            foreach (var field in listView.OwnFields.Where(f => IsGroupingField(f, null)))
            {
                options.Add(new(new SurvivalGrouping(SurvivalGroupingKind.Field, field.Name, list.Id), $"{field.Name} ({list.Name})", list.Name));
            }
        }
        var datasets = lists.Select(l => l.Dataset.Id).Append(datasetId).ToHashSet();
        foreach (var segment in await segments.ListAsync(cancellationToken))
        {
            if (datasets.Contains(segment.DatasetId))
            {
                options.Add(new(new SurvivalGrouping(SurvivalGroupingKind.Segment, SegmentId: segment.Id), $"Segment: {segment.Name}", "Segments"));
            }
        }
        return options;
    }

    private static bool IsGroupingField(QueryField field, SurvivalSource? source) =>
        field.Name != source?.CustomerKey && field.Role != FieldRole.CustomerId && field.Kind != FieldKind.Date
        && (field.Role == FieldRole.Dimension || field.Kind == FieldKind.Boolean || (field.Source is not null && field.Kind is FieldKind.Category or FieldKind.Text));

    /// <summary>The job key of the current user's analysis of a dataset.</summary>
    public static string JobKey(string userId, int datasetId) => $"survival:{UserKey(userId)}:{datasetId}";

    public async Task<string> JobKeyAsync(int datasetId) => JobKey((await currentUser.RequireAsync(Permissions.ViewData)).UserId()!, datasetId);

    /// <summary>
    /// Checks the request and starts the analysis in the background; returns its job. Bad settings (an incomplete rows
    /// rule, D below 1, an unknown grouping) are refused here, before anything is read.
    /// </summary>
    public async Task<JobSnapshot> StartAsync(SurvivalRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(request.DatasetId, cancellationToken);
        await RequireSourceAsync(request.DatasetId, cancellationToken);
        await ValidateAsync(request, cancellationToken);
        var key = JobKey(user.UserId()!, request.DatasetId);
        if (jobs.Latest(key) is { IsActive: true })
        {
            throw new PortalException($"A survival analysis of {dataset.Name} is already running for you. Wait for it, or cancel it first.");
        }
        return jobs.Enqueue(JobRequest.For(JobKind, $"Survival analysis of {dataset.Name}", key, user, new SurvivalJob(request),
            JsonSerializer.Serialize(request, Json)));
    }

    private async Task ValidateAsync(SurvivalRequest request, CancellationToken cancellationToken)
    {
        if (request.ChurnDays is < 1 or > 36500)
        {
            throw new PortalException("D, the days without a purchase that count as churn, must be between 1 and 36,500.");
        }
        if (ParseRows(request.RowsJson) is { } rows && (await queries.CheckAsync(request.DatasetId, rows, cancellationToken)) is { Count: > 0 } problems)
        {
            throw new PortalException($"The rule for which rows count is not complete: {problems[0].Message}");
        }
        var grouping = request.Grouping;
        if (grouping.Kind is SurvivalGroupingKind.Field or SurvivalGroupingKind.Segment
            && !(await GroupingsAsync(request.DatasetId, cancellationToken)).Any(o => o.Grouping == grouping))
        {
            throw new PortalException(grouping.Kind == SurvivalGroupingKind.Segment
                ? "That segment is not on these customers, or no longer exists."
                : $"“{grouping.Field}” is not a grouping this dataset offers.");
        }
    }

    /// <summary>The current user's last finished analysis of the dataset, unless their data rules changed since.</summary>
    public async Task<SurvivalView> GetAsync(int datasetId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        await access.RequireReadableAsync(datasetId, cancellationToken);
        var file = ResultPath(user.UserId()!, datasetId);
        if (!File.Exists(file))
        {
            return new SurvivalView(null, null);
        }
        StoredResult? stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredResult>(await File.ReadAllTextAsync(file, cancellationToken), Json);
        }
        catch (JsonException)
        {
            // Saved by an older version: run again.
            return new SurvivalView(null, null);
        }
        if (stored is null)
        {
            return new SurvivalView(null, null);
        }
        if (await ViewKeyAsync(datasetId, cancellationToken) != stored.ViewKey)
        {
            return new SurvivalView(null, ChangedNotice);
        }
        return new SurvivalView(stored.Result, null);
    }

    /// <summary>
    /// Runs the analysis now, as the current user (the job's work): reads each customer's purchase days and group
    /// through the query layer, builds the curves and the test, and keeps the result for <see cref="GetAsync"/>.
    /// </summary>
    internal async Task<SurvivalResult> ComputeAsync(SurvivalRequest request, IProgress<JobProgress>? progress, CancellationToken cancellationToken)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(request.DatasetId, cancellationToken);
        var source = await RequireSourceAsync(request.DatasetId, cancellationToken);
        await ValidateAsync(request, cancellationToken);
        var rows = ParseRows(request.RowsJson);

        progress?.Report(new JobProgress(0.05, "Reading purchase days…"));
        var purchases = await PurchaseDaysAsync(source, rows, request.EndDate, cancellationToken);
        if (purchases.Count == 0)
        {
            throw new PortalException("No purchases count under these settings, so there is nothing to analyse.");
        }
        if (purchases.Count < MinCustomers)
        {
            throw new PortalException($"Only {purchases.Count} customers have purchases under these settings; survival curves need at least {MinCustomers}.");
        }
        var end = request.EndDate?.DayNumber ?? purchases.Values.Max(d => d[^1]);

        progress?.Report(new JobProgress(0.5, "Reading the groups…"));
        var (groupOf, groupingLabel, noun) = await GroupsAsync(source, rows, request, purchases, cancellationToken);

        progress?.Report(new JobProgress(0.7, "Computing the curves…"));
        int? churnDays = null;
        var fromData = false;
        if (request.Event == SurvivalEvent.Churn)
        {
            churnDays = request.ChurnDays ?? SurvivalFollowUp.DefaultChurnDays(purchases.Values)
                ?? throw new PortalException("No customer bought on two different days, so D cannot be taken from the gaps between purchases. Enter D.");
            fromData = request.ChurnDays is null;
        }
        var byGroup = new Dictionary<string, List<SurvivalObservation>>(StringComparer.Ordinal);
        foreach (var (customer, days) in purchases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var observation = churnDays is { } d ? SurvivalFollowUp.Churn(days, end, d) : SurvivalFollowUp.SecondPurchase(days, end);
            var group = groupOf(customer, days);
            if (!byGroup.TryGetValue(group, out var list))
            {
                byGroup[group] = list = [];
            }
            list.Add(observation);
        }
        var (ordered, merged) = Limit(byGroup, request.Grouping.Kind);
        var result = await Task.Run(() => Analyse(ordered, noun), cancellationToken);
        var sentence = SurvivalWords.Sentence(request.Event, result.Groups, result.Test);
        var summary = new SurvivalResult(request, dataset.Name, groupingLabel, churnDays, fromData, DateOnly.FromDayNumber(end), purchases.Count,
            result.Groups, result.Test, sentence, clock.GetUtcNow()) { MergedGroups = merged };

        var file = ResultPath(user.UserId()!, request.DatasetId);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + ".tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(new StoredResult(summary, await ViewKeyAsync(request.DatasetId, cancellationToken)), Json), cancellationToken);
        File.Move(temp, file, overwrite: true);
        progress?.Report(new JobProgress(1, $"Curves of {purchases.Count:N0} customers in {result.Groups.Count} group{(result.Groups.Count == 1 ? "" : "s")}"));
        return summary;
    }

    private static (List<KeyValuePair<string, List<SurvivalObservation>>> Groups, int Merged) Limit(Dictionary<string, List<SurvivalObservation>> groups, SurvivalGroupingKind kind)
    {
        var bySize = groups.OrderByDescending(g => g.Value.Count).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        var merged = 0;
        if (bySize.Count > MaxGroups)
        {
            var rest = bySize.Skip(MaxGroups - 1).ToList();
            merged = rest.Count;
            bySize = [.. bySize.Take(MaxGroups - 1), new(Other, rest.SelectMany(g => g.Value).ToList())];
        }
        // Cohorts in time order, segments members first, other groups by name; "Other" last.
        var ordered = bySize.OrderBy(g => g.Key == Other).ThenBy(g => kind == SurvivalGroupingKind.Segment ? (g.Key == Members ? 0 : 1) : 0)
            .ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        return (ordered, merged);
    }

    private static (List<SurvivalGroupResult> Groups, LogRankTest? Test) Analyse(List<KeyValuePair<string, List<SurvivalObservation>>> groups, Func<string, string> noun)
    {
        var curves = groups.Select(g => SurvivalEngine.KaplanMeier(g.Value)).ToList();
        var test = groups.Count > 1 ? SurvivalEngine.LogRank(groups.Select(g => (IReadOnlyList<SurvivalObservation>)g.Value).ToList()) : null;
        var results = groups.Select((g, i) => new SurvivalGroupResult(g.Key, g.Key == Other ? "the other groups" : noun(g.Key), curves[i].Subjects, curves[i].Events,
            curves[i].Subjects - curves[i].Events, curves[i].Median, curves[i], test?.Groups[i])).ToList();
        return (results, test);
    }

    private const string Members = "Members";
    private const string NotMembers = "Not members";
    private const string Empty = "(empty)";

    /// <summary>Each customer's group, the grouping's label, and how a group's customers are named in a sentence.</summary>
    private async Task<(Func<string, int[], string> GroupOf, string Label, Func<string, string> Noun)> GroupsAsync(
        SurvivalSource source, RuleGroup? rows, SurvivalRequest request, IReadOnlyDictionary<string, int[]> purchases, CancellationToken cancellationToken)
    {
        var grouping = request.Grouping;
        switch (grouping.Kind)
        {
            case SurvivalGroupingKind.CohortMonth:
                return ((_, days) => SurvivalFollowUp.CohortOf(days[0]), "Cohort (month of first purchase)", g => $"the {g} cohort");
            case SurvivalGroupingKind.Segment:
            {
                var segment = (await segments.ListAsync(cancellationToken)).FirstOrDefault(s => s.Id == grouping.SegmentId)
                    ?? throw new PortalException("That segment no longer exists.");
                var filter = RowsFilter(source, rows, request.EndDate);
                filter.Children.Add(new SegmentCondition { SegmentId = segment.Id });
                var members = await CustomersAsync(source.DatasetId, filter, source.CustomerKey, cancellationToken);
                return ((customer, _) => members.Contains(customer) ? Members : NotMembers, $"Segment: {segment.Name}",
                    g => g == Members ? $"members of “{segment.Name}”" : $"customers not in “{segment.Name}”");
            }
            case SurvivalGroupingKind.Field when grouping.DatasetId == source.DatasetId:
            {
                // A customer's value on their transactions: the one on most of their counted rows (ties: the first by name).
                var counts = new Dictionary<string, (string Value, long Rows)>();
                await queries.ReadAsync(new QuerySpec
                {
                    DatasetId = source.DatasetId,
                    Filter = RowsFilter(source, rows, request.EndDate),
                    GroupBy = [new GroupBy(source.CustomerKey, Alias: "customer"), new GroupBy(grouping.Field!, Alias: "value")],
                    Measures = [new Measure(MeasureKind.Count, "n")],
                }, (_, reader) =>
                {
                    var customer = KeyText(reader.GetValue(0));
                    var value = ValueText(reader.IsDBNull(1) ? null : reader.GetValue(1));
                    var n = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
                    if (!counts.TryGetValue(customer, out var best) || n > best.Rows || (n == best.Rows && string.CompareOrdinal(value, best.Value) < 0))
                    {
                        counts[customer] = (value, n);
                    }
                }, cancellationToken);
                return ((customer, _) => counts.TryGetValue(customer, out var v) ? v.Value : Empty, grouping.Field!, g => $"{g} customers");
            }
            case SurvivalGroupingKind.Field:
            {
                var list = (await CustomerListsAsync(source.DatasetId, cancellationToken)).FirstOrDefault(l => l.Dataset.Id == grouping.DatasetId);
                if (list.Dataset is null)
                {
                    throw new PortalException("That customer list is no longer related to these transactions.");
                }
                var values = new Dictionary<string, string>();
                await queries.ReadAsync(new QuerySpec
                {
                    DatasetId = list.Dataset.Id,
                    Filter = new RuleGroup { Children = [new FieldCondition { Field = list.Key, Operator = RuleOperator.IsNotEmpty }] },
                    Columns = [list.Key, grouping.Field!],
                    DistinctCustomers = true,
                }, (_, reader) => values.TryAdd(KeyText(reader.GetValue(0)), ValueText(reader.IsDBNull(1) ? null : reader.GetValue(1))), cancellationToken);
                // A customer the list does not show (not on it, or outside the user's rows there) has no value.
                return ((customer, _) => values.GetValueOrDefault(customer, Empty), $"{grouping.Field} ({list.Dataset.Name})", g => $"{g} customers");
            }
            default:
                return ((_, _) => "All customers", "No grouping", _ => "all customers");
        }
    }

    private async Task<HashSet<string>> CustomersAsync(int datasetId, RuleGroup filter, string key, CancellationToken cancellationToken)
    {
        var result = new HashSet<string>();
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = datasetId,
            Filter = filter,
            GroupBy = [new GroupBy(key, Alias: "customer")],
            Measures = [new Measure(MeasureKind.Count, "n")],
        }, (_, reader) => result.Add(KeyText(reader.GetValue(0))), cancellationToken);
        return result;
    }

    /// <summary>Each customer's distinct purchase days (day numbers, ascending) among the rows that count, up to the end.</summary>
    private async Task<Dictionary<string, int[]>> PurchaseDaysAsync(SurvivalSource source, RuleGroup? rows, DateOnly? end, CancellationToken cancellationToken)
    {
        var days = new Dictionary<string, List<int>>();
        await queries.ReadAsync(new QuerySpec
        {
            DatasetId = source.DatasetId,
            Filter = RowsFilter(source, rows, end),
            GroupBy = [new GroupBy(source.CustomerKey, Alias: "customer"), new GroupBy(source.Date, DateBucket.Day, "day")],
            Measures = [new Measure(MeasureKind.Count, "n")],
        }, (_, reader) =>
        {
            var customer = KeyText(reader.GetValue(0));
            if (!days.TryGetValue(customer, out var list))
            {
                days[customer] = list = [];
            }
            list.Add(ToDate(reader.GetValue(1)).DayNumber);
        }, cancellationToken);
        return days.ToDictionary(d => d.Key, d =>
        {
            d.Value.Sort();
            return d.Value.Distinct().ToArray();
        });
    }

    /// <summary>Rows with a customer and a date, meeting the user's rule, up to the end date.</summary>
    private static RuleGroup RowsFilter(SurvivalSource source, RuleGroup? rows, DateOnly? end)
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
        if (end is { } last)
        {
            filter.Children.Add(new FieldCondition { Field = source.Date, Operator = RuleOperator.Before, Value = last.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) });
        }
        return filter;
    }

    /// <summary>Readable customer lists related to the transactions by the customer key, with their key column.</summary>
    private async Task<List<(Dataset Dataset, string Key)>> CustomerListsAsync(int datasetId, CancellationToken cancellationToken)
    {
        IReadOnlyList<CustomerKeyRelation> related;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            related = await DatasetRelations.RelatedByCustomerKeyAsync(db, datasetId, cancellationToken);
        }
        var result = new List<(Dataset, string)>();
        foreach (var relation in related)
        {
            if (await access.FindReadableAsync(relation.DatasetId, cancellationToken) is { } list)
            {
                result.Add((list, relation.CustomerKey));
            }
        }
        return result;
    }

    private async Task<string?> ViewKeyAsync(int datasetId, CancellationToken cancellationToken)
    {
        var inputs = (await CustomerListsAsync(datasetId, cancellationToken)).Select(l => l.Dataset.Id).Append(datasetId).Order().ToList();
        return await access.ViewKeyAsync(inputs, cancellationToken);
    }

    private async Task<SurvivalSource> RequireSourceAsync(int datasetId, CancellationToken cancellationToken)
    {
        var dataset = await access.RequireReadableAsync(datasetId, cancellationToken);
        return SourceOf(await policy.DescribeAsync(dataset, cancellationToken)) ?? throw new PortalException(
            $"{dataset.Name} needs Customer ID and date roles for survival curves. Set them on the dataset's Columns & roles tab.");
    }

    private static RuleGroup? ParseRows(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : RuleTree.FromJson(json).Root is { Children.Count: > 0 } root ? root : null;

    private string ResultPath(string userId, int datasetId) =>
        paths.InDataDirectory(Path.Combine("survival", $"{UserKey(userId)}-{datasetId.ToString(CultureInfo.InvariantCulture)}.json"));

    /// <summary>A file-name-safe key of a user id.</summary>
    private static string UserKey(string userId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userId)))[..16];

    /// <summary>Customer keys as text; whole numbers without decimals, so 17850 and 17850.0 from two datasets match.</summary>
    internal static string KeyText(object? value) => value switch
    {
        double d when d == Math.Floor(d) && Math.Abs(d) < 1e15 => ((long)d).ToString(CultureInfo.InvariantCulture),
        decimal m when m == decimal.Floor(m) => decimal.ToInt64(m).ToString(CultureInfo.InvariantCulture),
        float f when f == MathF.Floor(f) => ((long)f).ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string ValueText(object? value) => QueryValue.ToText(value) is { Length: > 0 } text ? text : Empty;

    private static DateOnly ToDate(object? value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        DateTimeOffset o => DateOnly.FromDateTime(o.UtcDateTime),
        _ => DateOnly.FromDateTime(Convert.ToDateTime(value, CultureInfo.InvariantCulture)),
    };

    private sealed record StoredResult(SurvivalResult Result, string? ViewKey);
}

/// <summary>A survival job: the analysis to run.</summary>
public sealed record SurvivalJob(SurvivalRequest Request);

/// <summary>Does a survival job through <see cref="SurvivalService.ComputeAsync"/>, as the user who started it.</summary>
internal sealed class SurvivalJobHandler(SurvivalService survival) : IJobHandler<SurvivalJob>
{
    public Task RunAsync(SurvivalJob payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return survival.ComputeAsync(payload.Request, progress, cancellationToken);
    }
}

/// <summary>Retry on the Jobs page (after a restart or a failure): starts the same analysis again as the current user.</summary>
public sealed class SurvivalJobRetry(SurvivalService survival) : IJobRetry
{
    public string Kind => SurvivalService.JobKind;

    public Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken) =>
        survival.StartAsync(JsonSerializer.Deserialize<SurvivalRequest>(target, SurvivalService.Json)
            ?? throw new PortalException("The analysis to retry could not be read; start it again."), cancellationToken);
}
