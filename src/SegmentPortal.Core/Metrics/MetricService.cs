using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Metrics;

/// <summary>A metric as the library lists it.</summary>
public sealed record MetricSummary(
    int Id,
    string Name,
    string? Description,
    int DatasetId,
    string DatasetName,
    string? Owner,
    string MeasureLabel,
    DateBucket Grain,
    MetricFormat Format,
    string? Unit,
    int Decimals,
    MetricDirection Direction,
    double? Target,
    double? WarnAt,
    double? BadAt,
    bool Certified,
    DateTimeOffset UpdatedAt,
    bool CanEdit);

/// <summary>A metric as its page shows it: the definition, names, who certified it, and what the current user may do.</summary>
public sealed record MetricView(
    int Id,
    MetricDefinition Definition,
    string DatasetName,
    string? SegmentName,
    string? Owner,
    bool Certified,
    string? CertifiedBy,
    DateTimeOffset? CertifiedAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    bool CanEdit,
    bool CanCertify)
{
    public string MeasureLabel => MetricMeasures.Label(Definition.Measure);

    public string FilterSummary => MetricMeasures.DescribeRule(Definition.RuleJson);
}

/// <summary>One entry of a metric's history: who, when, and what changed in words.</summary>
public sealed record MetricChange(DateTimeOffset At, string User, IReadOnlyList<string> Changes, MetricDefinition? Before, MetricDefinition After);

/// <summary>Where a metric is used, as the current user may know it: the uses they may open, and how many others there are.</summary>
public sealed record MetricUses(IReadOnlyList<MetricUse> Visible, int Hidden);

/// <summary>
/// The metrics library: key figures defined once (what, over which data, which rows, along which date, how written, what
/// is good) and computed for whoever asks through the query layer (<see cref="QueryService"/>), so row and column rules
/// apply and two users may see different values of the same metric. Anyone who may read a metric's dataset sees the
/// metric; Analysts and Admins define metrics; the owner or an Admin changes or deletes one; only Admins certify.
/// Every change is kept with who made it and what changed.
/// </summary>
public sealed partial class MetricService(
    ICurrentUser currentUser,
    IPortalDbFactory dbFactory,
    Authorizer access,
    PermissionPolicy policy,
    QueryService queries,
    IEnumerable<IMetricUsers> users,
    TimeProvider clock)
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 2000;
    public const int MaxUnitLength = 20;
    public const int DefaultPeriods = 12;
    public const int MaxPeriods = 120;

    public async Task<IReadOnlyList<MetricSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var rows = await (from m in db.Metrics.AsNoTracking()
                          join d in db.Datasets on m.DatasetId equals d.Id
                          join u in db.Users on m.OwnerId equals u.Id into owners
                          from owner in owners.DefaultIfEmpty()
                          select new { Metric = m, DatasetName = d.Name, DatasetOwner = d.OwnerId, Owner = owner == null ? null : owner.Email })
            .ToListAsync(cancellationToken);
        var readable = await access.ReadableAsync(rows.Select(r => r.Metric.DatasetId).Distinct().ToList(),
            rows.GroupBy(r => r.Metric.DatasetId).ToDictionary(g => g.Key, g => (string?)g.First().DatasetOwner), cancellationToken);
        return rows.Where(r => readable.Contains(r.Metric.DatasetId))
            .Select(r => new MetricSummary(r.Metric.Id, r.Metric.Name, r.Metric.Description, r.Metric.DatasetId, r.DatasetName, r.Owner,
                SafeLabel(r.Metric.MeasureJson), r.Metric.Grain, r.Metric.Format, r.Metric.Unit, r.Metric.Decimals, r.Metric.Direction,
                r.Metric.Target, r.Metric.WarnAt, r.Metric.BadAt, r.Metric.Certified, r.Metric.UpdatedAt, MayChange(user, r.Metric)))
            .OrderByDescending(r => r.Certified)
            .ThenBy(r => r.Name, StringComparer.CurrentCultureIgnoreCase)
            .ToList();
    }

    public async Task<MetricView> GetAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var metric = await LoadVisibleAsync(id, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var dataset = await db.Datasets.AsNoTracking().Where(d => d.Id == metric.DatasetId).Select(d => d.Name).SingleAsync(cancellationToken);
        string? segment = null;
        if (metric.SegmentId is { } segmentId && (await access.AccessAsync(SharedItem.Segment, segmentId, cancellationToken)).CanView)
        {
            segment = await db.Segments.AsNoTracking().Where(s => s.Id == segmentId).Select(s => s.Name).SingleOrDefaultAsync(cancellationToken);
        }
        var names = await UserNamesAsync(db, [metric.OwnerId, metric.CertifiedById], cancellationToken);
        return new MetricView(metric.Id, MetricDefinition.Of(metric), dataset, segment, Name(names, metric.OwnerId), metric.Certified,
            Name(names, metric.CertifiedById), metric.CertifiedAt, metric.CreatedAt, metric.UpdatedAt, MayChange(user, metric), MayCertify(user));
    }

    public async Task<int> CreateAsync(MetricDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var clean = await ValidateAsync(db, definition, null, cancellationToken);
        var now = clock.GetUtcNow();
        var metric = new Metric { Name = clean.Name, MeasureJson = "", TimeColumn = clean.TimeColumn, OwnerId = user.UserId(), CreatedAt = now, UpdatedAt = now };
        clean.ApplyTo(metric);
        db.Metrics.Add(metric);
        await db.SaveChangesAsync(cancellationToken);
        db.MetricRevisions.Add(Revision(metric.Id, user, now, clean.Created(await NamesAsync(db, cancellationToken)), null, clean));
        await db.SaveChangesAsync(cancellationToken);
        return metric.Id;
    }

    /// <summary>
    /// Saves a new definition and records what changed. A change to what the metric computes takes its certification
    /// away (an Admin certifies the new definition again). Saving without a change records nothing.
    /// </summary>
    public async Task UpdateAsync(int id, MetricDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await LoadVisibleAsync(id, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var metric = await db.Metrics.SingleOrDefaultAsync(m => m.Id == id, cancellationToken) ?? throw Missing();
        RequireChanger(user, metric);
        var clean = await ValidateAsync(db, definition, id, cancellationToken);
        var before = MetricDefinition.Of(metric);
        var changes = clean.Changes(before, await NamesAsync(db, cancellationToken)).ToList();
        if (changes.Count == 0)
        {
            return;
        }
        if (metric.Certified && clean.ComputesDifferentlyFrom(before))
        {
            metric.Certified = false;
            metric.CertifiedById = null;
            metric.CertifiedAt = null;
            changes.Add("Certification removed: what the metric computes changed");
        }
        var now = clock.GetUtcNow();
        clean.ApplyTo(metric);
        metric.UpdatedAt = now;
        db.MetricRevisions.Add(Revision(id, user, now, changes, before, clean));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Deletes a metric and its history; refused while a tile (or an alert) uses it.</summary>
    public async Task DeleteAsync(int id, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        await LoadVisibleAsync(id, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var metric = await db.Metrics.SingleOrDefaultAsync(m => m.Id == id, cancellationToken) ?? throw Missing();
        RequireChanger(user, metric);
        var uses = await AllUsesAsync(id, cancellationToken);
        if (uses.Count > 0)
        {
            var named = uses.Where(u => u.Visible).Select(u => $"“{u.ItemName}{(u.PartName is null ? "" : " › " + u.PartName)}”").Distinct().ToList();
            var hidden = uses.Count(u => !u.Visible);
            var where = string.Join(", ", named) + (hidden == 0 ? "" : $"{(named.Count > 0 ? " and " : "")}{hidden} {(hidden == 1 ? "place" : "places")} you cannot see");
            throw new PortalException($"{metric.Name} is used by {where}; take it off {(uses.Count == 1 ? "it" : "them")} first.");
        }
        await db.MetricRevisions.Where(r => r.MetricId == id).ExecuteDeleteAsync(cancellationToken);
        db.Metrics.Remove(metric);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Marks a metric certified (or takes the mark away): Admins only. Recorded in its history.</summary>
    public async Task CertifyAsync(int id, bool certified, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        if (!MayCertify(user))
        {
            throw new PermissionDeniedException("Only an Admin can certify a metric.");
        }
        await LoadVisibleAsync(id, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var metric = await db.Metrics.SingleOrDefaultAsync(m => m.Id == id, cancellationToken) ?? throw Missing();
        if (metric.Certified == certified)
        {
            return;
        }
        var now = clock.GetUtcNow();
        metric.Certified = certified;
        metric.CertifiedById = certified ? user.UserId() : null;
        metric.CertifiedAt = certified ? now : null;
        var definition = MetricDefinition.Of(metric);
        db.MetricRevisions.Add(Revision(id, user, now, [certified ? "Certified" : "Certification removed"], definition, definition));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The metric's changes, newest first.</summary>
    public async Task<IReadOnlyList<MetricChange>> HistoryAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await LoadVisibleAsync(id, cancellationToken);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var revisions = await db.MetricRevisions.AsNoTracking().Where(r => r.MetricId == id).ToListAsync(cancellationToken);
        return revisions.OrderByDescending(r => r.At).ThenByDescending(r => r.Id)
            .Select(r => new MetricChange(r.At, r.UserName, JsonSerializer.Deserialize<List<string>>(r.ChangesJson) ?? [],
                r.BeforeJson is null ? null : MetricDefinition.FromJson(r.BeforeJson), MetricDefinition.FromJson(r.AfterJson)))
            .ToList();
    }

    /// <summary>The tiles (and later alerts) that use the metric: those the current user may open, and a count of the others.</summary>
    public async Task<MetricUses> UsesAsync(int id, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        await LoadVisibleAsync(id, cancellationToken);
        var uses = await AllUsesAsync(id, cancellationToken);
        return new MetricUses(uses.Where(u => u.Visible).ToList(), uses.Count(u => !u.Visible));
    }

    /// <summary>
    /// The metric's values for the current user: the last <paramref name="periods"/> periods of its grain, the current
    /// one last. Without <paramref name="asOf"/> the current period is the latest one with data up to today (so a
    /// dataset that ends in the past still shows its last figures, and says through when); with it, the period holding
    /// that day, counted up to it. Everything comes from one grouped query through the query layer (a ratio's two
    /// measures included), so the user's row and column rules apply.
    /// </summary>
    public async Task<MetricValues> ValuesAsync(int id, int periods = DefaultPeriods, DateOnly? asOf = null, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ViewData);
        var metric = await LoadVisibleAsync(id, cancellationToken);
        return await ComputeAsync(MetricDefinition.Of(metric), periods, asOf, cancellationToken);
    }

    /// <summary>
    /// The values a definition would have, before it is saved (the editor's preview); checked as a save would check it.
    /// </summary>
    public async Task<MetricValues> PreviewAsync(MetricDefinition definition, int periods = DefaultPeriods, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        await currentUser.RequireAsync(Permissions.ViewData);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var clean = await ValidateAsync(db, definition with { Name = string.IsNullOrWhiteSpace(definition.Name) ? "Preview" : definition.Name }, null,
            cancellationToken, checkName: false);
        return await ComputeAsync(clean, periods, null, cancellationToken);
    }

    private async Task<MetricValues> ComputeAsync(MetricDefinition definition, int periods, DateOnly? asOf, CancellationToken cancellationToken)
    {
        periods = Math.Clamp(periods, 2, MaxPeriods);
        var grain = definition.Grain;
        var result = await queries.RunAsync(TrendSpec(definition, periods, asOf), cancellationToken);

        var byPeriod = new Dictionary<DateOnly, (double? Value, DateOnly? Last)>();
        foreach (var row in result.Rows)
        {
            if (Periods.AsDate(row[result.Index("d0")]) is { } start)
            {
                byPeriod[start] = (MetricMeasures.Read(definition.Measure, "m0", result, row), Periods.AsDate(row[result.Index("last")]));
            }
        }
        if (Shape(definition, periods, asOf, byPeriod) is not { } shaped)
        {
            return new MetricValues(grain, null, [], MetricStatus.None);
        }
        return shaped.Partial
            ? shaped.Values with { SameDays = await SameDaysAsync(definition, shaped.Current, shaped.Values.Through!.Value, cancellationToken) }
            : shaped.Values;
    }

    /// <summary>
    /// The grouped query of one metric's trend: its rows up to today (or, with a day given, the periods asked for up to
    /// that day) by period of its grain, with the measure and each period's last day with data.
    /// </summary>
    private QuerySpec TrendSpec(MetricDefinition definition, int periods, DateOnly? asOf)
    {
        var grain = definition.Grain;
        var filter = Rows(definition);
        if (asOf is { } day)
        {
            var first = Periods.Add(Periods.Start(day, grain), grain, 1 - periods);
            filter.Children.Add(new FieldCondition
            {
                Field = definition.TimeColumn,
                Operator = RuleOperator.Between,
                Value = Text(first),
                Value2 = Text(day),
            });
        }
        else
        {
            filter.Children.Add(UpToToday(definition.TimeColumn, Today()));
        }
        return new QuerySpec
        {
            DatasetId = definition.DatasetId,
            Filter = filter,
            GroupBy = [new GroupBy(definition.TimeColumn, grain, "d0")],
            Measures = [.. MetricMeasures.ToQuery(definition.Measure, "m0"), new Measure(MeasureKind.Max, "last", definition.TimeColumn)],
            Sort = [new SortBy("d0", Descending: true)],
            // The latest periods with data; with a day given, the window already holds only the periods asked for.
            Limit = asOf is null ? periods : null,
        };
    }

    private DateOnly Today() => DateOnly.FromDateTime(clock.GetLocalNow().DateTime);

    /// <summary>Rows dated up to <paramref name="today"/> (so not in the future, and with a date).</summary>
    private static FieldCondition UpToToday(string timeColumn, DateOnly today) =>
        new() { Field = timeColumn, Operator = RuleOperator.Before, Value = Text(today.AddDays(1)) };

    /// <summary>A metric's values before the same-days comparison, with its current period's start.</summary>
    private sealed record Shaped(MetricValues Values, DateOnly Current)
    {
        /// <summary>The current period's data ends before its last day: it is compared with the same days of the one before.</summary>
        public bool Partial => Values.Through is { } last && last < Periods.End(Current, Values.Grain);
    }

    /// <summary>
    /// The trend of <paramref name="periods"/> periods ending at the current one (the latest with data, or the one
    /// holding <paramref name="asOf"/>), from each period's value and last day with data; null when no period has data
    /// and no day was given. Periods without data count as the measure over no rows.
    /// </summary>
    private static Shaped? Shape(MetricDefinition definition, int periods, DateOnly? asOf, IReadOnlyDictionary<DateOnly, (double? Value, DateOnly? Last)> byPeriod)
    {
        var grain = definition.Grain;
        if (asOf is null && byPeriod.Count == 0)
        {
            return null;
        }
        var current = asOf is { } d ? Periods.Start(d, grain) : byPeriod.Keys.Max();
        var trend = Enumerable.Range(0, periods)
            .Select(i => Periods.Add(current, grain, i - periods + 1))
            .Select(start => new MetricPoint(start, Periods.Label(start, grain),
                byPeriod.TryGetValue(start, out var found) ? found.Value : MetricMeasures.OverNoRows(definition.Measure)))
            .ToList();
        var through = asOf ?? byPeriod[current].Last;
        return new Shaped(new MetricValues(grain, through, trend,
            MetricFormatting.Status(trend[^1].Value, definition.Direction, definition.Target, definition.WarnAt, definition.BadAt)), current);
    }

    /// <summary>
    /// The previous period up to the same day as the current one's data (1–7 November for December through the 7th), from
    /// a second query through the query layer, so the user's row and column rules apply as to the trend.
    /// </summary>
    private async Task<MetricSameDays> SameDaysAsync(MetricDefinition definition, DateOnly current, DateOnly through, CancellationToken cancellationToken)
    {
        var (from, to) = Periods.SameDaysBefore(current, definition.Grain, through);
        var filter = Rows(definition);
        filter.Children.Add(new FieldCondition { Field = definition.TimeColumn, Operator = RuleOperator.Between, Value = Text(from), Value2 = Text(to) });
        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = definition.DatasetId,
            Filter = filter,
            Measures = MetricMeasures.ToQuery(definition.Measure, "m0"),
        }, cancellationToken);
        var value = result.Rows.Count == 0 ? MetricMeasures.OverNoRows(definition.Measure) : MetricMeasures.Read(definition.Measure, "m0", result, result.Rows[0]);
        return new MetricSameDays(from, to, value, Periods.SameDaysLabel(from, definition.Grain));
    }

    /// <summary>The rows a metric counts: its rule and its segment's customers.</summary>
    private static RuleGroup Rows(MetricDefinition definition)
    {
        var root = new RuleGroup();
        if (!string.IsNullOrEmpty(MetricDefinition.NormalRule(definition.RuleJson)))
        {
            root.Children.Add(RuleTree.FromJson(definition.RuleJson).Root);
        }
        if (definition.SegmentId is { } segment)
        {
            root.Children.Add(new SegmentCondition { SegmentId = segment });
        }
        return root;
    }

    /// <summary>
    /// Checks a definition for the current user and returns it cleaned (names trimmed, empty texts as null): the dataset
    /// is readable, the columns exist for this user and fit the measure, the rules are complete, the name is free among
    /// the dataset's metrics, and the target and bands agree with the direction.
    /// </summary>
    private async Task<MetricDefinition> ValidateAsync(IPortalDb db, MetricDefinition definition, int? except, CancellationToken cancellationToken, bool checkName = true)
    {
        var name = definition.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            throw new PortalException("Give the metric a name.");
        }
        if (name.Length > MaxNameLength)
        {
            throw new PortalException($"A metric name has at most {MaxNameLength} characters.");
        }
        var description = Clean(definition.Description);
        if (description?.Length > MaxDescriptionLength)
        {
            throw new PortalException($"A metric's description has at most {MaxDescriptionLength} characters.");
        }
        var dataset = await access.RequireReadableAsync(definition.DatasetId, cancellationToken);
        if (checkName)
        {
            var taken = await db.Metrics.Where(m => m.DatasetId == definition.DatasetId && m.Id != except).Select(m => m.Name).ToListAsync(cancellationToken);
            UniqueNames.Require(name, taken, "metric", who: null,
                error: message => new PortalException($"{message[..^1]} on {dataset.Name}."));
        }
        var view = await policy.DescribeAsync(dataset, cancellationToken);

        if (definition.Measure is null)
        {
            throw new PortalException("Choose what the metric measures.");
        }
        var measure = await CheckMeasureAsync(definition.Measure, view, dataset, "", cancellationToken);

        var time = definition.TimeColumn?.Trim();
        if (string.IsNullOrEmpty(time))
        {
            throw new PortalException("Choose the date column the metric is measured along.");
        }
        if (view.Field(time) is not { } timeField)
        {
            throw NotAColumn(time, dataset);
        }
        if (timeField.Kind != FieldKind.Date)
        {
            throw new PortalException($"“{time}” is not a date column; choose a date column to measure the metric along.");
        }
        if (!Enum.IsDefined(definition.Grain))
        {
            throw new PortalException("Choose the period one value covers (day, week, month, quarter or year).");
        }

        var rule = string.IsNullOrEmpty(MetricDefinition.NormalRule(definition.RuleJson)) ? null : RuleTree.FromJson(definition.RuleJson);
        if (rule is not null)
        {
            await RequireCompleteAsync(dataset.Id, rule.Root, "The filter", cancellationToken);
        }
        if (definition.SegmentId is { } segmentId)
        {
            if (!(await access.AccessAsync(SharedItem.Segment, segmentId, cancellationToken)).CanView)
            {
                throw Authorizer.Missing(SharedItem.Segment);
            }
            await RequireCompleteAsync(dataset.Id, new RuleGroup { Children = [new SegmentCondition { SegmentId = segmentId }] }, "The segment", cancellationToken);
        }

        if (!Enum.IsDefined(definition.Format))
        {
            throw new PortalException("Choose how the metric is written: a number, a percentage or an amount of money.");
        }
        if (definition.Decimals is < 0 or > MetricFormatting.MaxDecimals)
        {
            throw new PortalException($"Choose between 0 and {MetricFormatting.MaxDecimals} decimals.");
        }
        var unit = Clean(definition.Unit);
        if (unit?.Length > MaxUnitLength)
        {
            throw new PortalException($"A unit has at most {MaxUnitLength} characters.");
        }
        var clean = definition with
        {
            Name = name,
            Description = description,
            Measure = measure,
            RuleJson = rule?.ToJson(),
            TimeColumn = time,
            Unit = unit,
        };
        CheckBands(clean);
        return clean;
    }

    private async Task<MetricMeasure> CheckMeasureAsync(MetricMeasure measure, QueryDataset view, Dataset dataset, string part, CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(measure.Kind))
        {
            throw new PortalException("Choose what the metric measures.");
        }
        var filter = string.IsNullOrEmpty(MetricDefinition.NormalRule(measure.FilterJson)) ? null : RuleTree.FromJson(measure.FilterJson);
        if (filter is not null)
        {
            await RequireCompleteAsync(dataset.Id, filter.Root, $"The {(part.Length == 0 ? "measure" : part)}'s own filter", cancellationToken);
        }
        if (measure.Kind == MetricMeasureKind.Ratio)
        {
            if (part.Length > 0)
            {
                throw new PortalException("A ratio's numerator and denominator cannot be ratios themselves.");
            }
            if (measure.Numerator is null || measure.Denominator is null)
            {
                throw new PortalException("A ratio needs a numerator and a denominator.");
            }
            return new MetricMeasure(MetricMeasureKind.Ratio,
                Numerator: await CheckMeasureAsync(measure.Numerator, view, dataset, "numerator", cancellationToken),
                Denominator: await CheckMeasureAsync(measure.Denominator, view, dataset, "denominator", cancellationToken),
                FilterJson: filter?.ToJson());
        }
        var what = part.Length == 0 ? "" : $" for the {part}";
        if (measure.Kind == MetricMeasureKind.Customers && view.WithRole(FieldRole.CustomerId) is null)
        {
            throw new PortalException($"{dataset.Name} has no Customer ID column to count customers by. Set one on the dataset's Columns & roles tab.");
        }
        if (!MetricMeasures.NeedsColumn(measure.Kind))
        {
            return new MetricMeasure(measure.Kind, FilterJson: filter?.ToJson());
        }
        var column = measure.Column?.Trim();
        if (string.IsNullOrEmpty(column))
        {
            throw new PortalException($"Choose the column to {Verb(measure.Kind)}{what}.");
        }
        if (view.Field(column) is not { } field)
        {
            throw NotAColumn(column, dataset);
        }
        if (MetricMeasures.NeedsNumber(measure.Kind) && field.Kind != FieldKind.Number)
        {
            throw new PortalException($"“{column}” is not a number column; choose a number column to {Verb(measure.Kind)}{what}.");
        }
        return new MetricMeasure(measure.Kind, column, FilterJson: filter?.ToJson());
    }

    private static string Verb(MetricMeasureKind kind) => kind switch
    {
        MetricMeasureKind.Sum => "sum",
        MetricMeasureKind.Average => "average",
        MetricMeasureKind.Median => "take the median of",
        MetricMeasureKind.Min => "take the lowest of",
        MetricMeasureKind.Max => "take the highest of",
        _ => "count distinct values of",
    };

    private async Task RequireCompleteAsync(int datasetId, RuleGroup rule, string what, CancellationToken cancellationToken)
    {
        var problems = await queries.CheckAsync(datasetId, rule, cancellationToken);
        if (problems.Count > 0)
        {
            throw new PortalException($"{what} is not complete: {string.Join(" ", problems.Select(p => p.Message).Distinct())}");
        }
    }

    /// <summary>
    /// Higher is better: bad ≤ warning ≤ target; lower is better: target ≤ warning ≤ bad. Warning and bad lines need a
    /// direction (a target alone may be drawn without one).
    /// </summary>
    private static void CheckBands(MetricDefinition d)
    {
        if (!Enum.IsDefined(d.Direction))
        {
            throw new PortalException("Choose whether higher or lower is better, or neither.");
        }
        foreach (var (value, what) in new[] { (d.Target, "target"), (d.WarnAt, "warning line"), (d.BadAt, "bad line") })
        {
            if (value is { } v && !double.IsFinite(v))
            {
                throw new PortalException($"The {what} must be a number.");
            }
        }
        if (d.Direction == MetricDirection.None)
        {
            if (d.WarnAt is not null || d.BadAt is not null)
            {
                throw new PortalException("Warning and bad lines need a direction: say whether higher or lower is better.");
            }
            return;
        }
        var higher = d.Direction == MetricDirection.HigherIsBetter;
        string F(double v) => MetricFormatting.Format(v, d.Format, d.Unit, d.Decimals, System.Globalization.CultureInfo.InvariantCulture);
        void Order(double? better, string betterName, double? worse, string worseName)
        {
            if (better is { } b && worse is { } w && (higher ? w > b : w < b))
            {
                throw new PortalException(
                    $"With {MetricFormatting.Direction(d.Direction)}, the {worseName} ({F(w)}) must be at or {(higher ? "below" : "above")} the {betterName} ({F(b)}).");
            }
        }
        Order(d.Target, "target", d.WarnAt, "warning line");
        Order(d.WarnAt, "warning line", d.BadAt, "bad line");
        Order(d.Target, "target", d.BadAt, "bad line");
    }

    private async Task<IReadOnlyList<MetricUse>> AllUsesAsync(int id, CancellationToken cancellationToken)
    {
        var all = new List<MetricUse>();
        foreach (var source in users)
        {
            all.AddRange(await source.UsesAsync(id, cancellationToken));
        }
        return all;
    }

    /// <summary>
    /// A metric as stored, for modules that show it (a dashboard tile reads its current definition at each load), or
    /// null when it was deleted or the current user may not read its dataset. Its values are then computed through
    /// the query layer like any other read.
    /// </summary>
    internal async Task<Metric?> FindAsync(int id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var metric = await db.Metrics.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, cancellationToken);
        return metric is null || await access.FindReadableAsync(metric.DatasetId, cancellationToken) is null ? null : metric;
    }

    /// <summary>The metric, if the current user may read its dataset; "missing" otherwise, so ids cannot be probed.</summary>
    private async Task<Metric> LoadVisibleAsync(int id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var metric = await db.Metrics.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, cancellationToken) ?? throw Missing();
        return await access.FindReadableAsync(metric.DatasetId, cancellationToken) is null ? throw Missing() : metric;
    }

    private static bool MayChange(ClaimsPrincipal user, Metric metric) =>
        Permissions.IsGranted(user, Permissions.ManageData) && !ViewAsState.IsViewAs(user)
        && (user.IsInRole(Roles.Admin) || (metric.OwnerId is not null && metric.OwnerId == user.UserId()));

    private static bool MayCertify(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && user.IsInRole(Roles.Admin) && !ViewAsState.IsViewAs(user);

    private static void RequireChanger(ClaimsPrincipal user, Metric metric)
    {
        if (!MayChange(user, metric))
        {
            throw new PermissionDeniedException("Only the metric's owner or an Admin can change or delete it.");
        }
    }

    private static MetricRevision Revision(int metricId, ClaimsPrincipal user, DateTimeOffset at, IReadOnlyList<string> changes, MetricDefinition? before, MetricDefinition after) => new()
    {
        MetricId = metricId,
        UserId = user.UserId(),
        UserName = user.Identity?.Name ?? user.UserId() ?? "unknown",
        At = at,
        ChangesJson = JsonSerializer.Serialize(changes),
        BeforeJson = before?.ToJson(),
        AfterJson = after.ToJson(),
    };

    private static async Task<IMetricNames> NamesAsync(IPortalDb db, CancellationToken cancellationToken)
    {
        var datasets = await db.Datasets.AsNoTracking().Select(d => new { d.Id, d.Name }).ToDictionaryAsync(d => d.Id, d => d.Name, cancellationToken);
        var segments = await db.Segments.AsNoTracking().Select(s => new { s.Id, s.Name }).ToDictionaryAsync(s => s.Id, s => s.Name, cancellationToken);
        return new StoredNames(datasets, segments);
    }

    private static async Task<Dictionary<string, string?>> UserNamesAsync(IPortalDb db, IEnumerable<string?> ids, CancellationToken cancellationToken)
    {
        var wanted = ids.OfType<string>().Distinct().ToList();
        return await db.Users.AsNoTracking().Where(u => wanted.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email, cancellationToken);
    }

    private static string? Name(Dictionary<string, string?> names, string? id) => id is not null && names.TryGetValue(id, out var name) ? name : null;

    private static string SafeLabel(string measureJson)
    {
        try
        {
            return MetricMeasures.Label(MetricMeasures.Read(measureJson));
        }
        catch (PortalException)
        {
            return "(unreadable measure)";
        }
    }

    private static PortalException NotAColumn(string column, Dataset dataset) =>
        new($"{dataset.Name} has no column “{column}” (or you may not see it).");

    private static PortalException Missing() => new("That metric does not exist or you do not have access to it.");

    private static string? Clean(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class StoredNames(IReadOnlyDictionary<int, string> datasets, IReadOnlyDictionary<int, string> segments) : IMetricNames
    {
        public string? Dataset(int id) => datasets.TryGetValue(id, out var name) ? name : null;

        public string? Segment(int id) => segments.TryGetValue(id, out var name) ? name : null;
    }
}
