using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Metrics;

/// <summary>
/// Many metrics' values for one user (<see cref="MetricService.ValuesBatchAsync"/>): the values of each metric that
/// could be computed, and for each metric whose own query fails for this user (a column of it hidden from them, say)
/// the message <see cref="MetricService.ValuesAsync"/> would have thrown.
/// </summary>
public sealed record MetricValuesBatch(IReadOnlyDictionary<int, MetricValues> Values, IReadOnlyDictionary<int, string> Errors)
{
    /// <summary>The definitions the values were computed from (of the metrics in <see cref="Values"/> and <see cref="Errors"/>).</summary>
    public IReadOnlyDictionary<int, MetricDefinition> Definitions { get; init; } = new Dictionary<int, MetricDefinition>();
}

// Many metrics at once: metrics over the same dataset, date column and grain share one scan.
public sealed partial class MetricService
{
    /// <summary>
    /// How much one shared query computes at most, in aggregates, where an aggregate that keeps every value of its
    /// group (a distinct count or customers, a median) counts as <see cref="HeavyWeight"/>; a larger group of metrics is
    /// split into several queries (each metric whole in one of them). Measured with the <c>alerts</c> benchmark: one
    /// query of all 61 month metrics (7 distinct counts, 3 medians) was slower than three or four smaller ones.
    /// </summary>
    public const int MaxMeasuresPerQuery = 60;

    /// <summary>What an aggregate that keeps every value of its group counts for in <see cref="MaxMeasuresPerQuery"/>.</summary>
    public const int HeavyWeight = 10;

    /// <summary>The limit this service splits at: <see cref="MaxMeasuresPerQuery"/> (the benchmark measures others).</summary>
    internal int MeasuresPerQuery { get; set; } = MaxMeasuresPerQuery;

    /// <summary>
    /// The values of many metrics for the current user, each exactly as <see cref="ValuesAsync"/> gives it without a
    /// day (current period = that metric's latest period with data, trend, status, same-days comparison). Metrics the
    /// user cannot see (deleted, or over a dataset they may not read) are left out, and so are metrics
    /// <see cref="ValuesAsync"/> would refuse with an error for this user (e.g. one that sums a column hidden from them);
    /// <see cref="ValuesBatchAsync"/> gives those errors.
    /// </summary>
    /// <remarks>
    /// Metrics that read the same dataset along the same date column at the same grain (and of the same segment, or of
    /// none) share one grouped query through the query layer, so the user's row and column rules apply as to each alone:
    /// grouped by period, one set of filtered aggregates per metric (its measure limited to its rule, and its last date
    /// in each period, which also tells the periods it has rows in), at most <see cref="MaxMeasuresPerQuery"/> aggregates
    /// a query. That query reads only the periods of the trend up to today's; metrics without rows in today's period
    /// share a second one over all their rows. The same-days comparisons of partial current periods are one more shared
    /// query. A segment is the shared query's filter rather than each aggregate's: a membership test inside an
    /// aggregate's filter is a join per aggregate, and measured several times slower in DuckDB than a query per segment.
    /// </remarks>
    public async Task<IReadOnlyDictionary<int, MetricValues>> ValuesManyAsync(
        IReadOnlyCollection<int> metricIds, int periods = DefaultPeriods, CancellationToken cancellationToken = default) =>
        (await ValuesBatchAsync(metricIds, periods, cancellationToken)).Values;

    /// <summary>
    /// <see cref="ValuesManyAsync"/> with the errors: a metric whose own query fails for this user is in
    /// <see cref="MetricValuesBatch.Errors"/> with the message <see cref="ValuesAsync"/> would have thrown, and the other
    /// metrics are still computed. Metrics the user cannot see are in neither.
    /// </summary>
    public async Task<MetricValuesBatch> ValuesBatchAsync(
        IReadOnlyCollection<int> metricIds, int periods = DefaultPeriods, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metricIds);
        await currentUser.RequireAsync(Permissions.ViewData);
        periods = Math.Clamp(periods, 2, MaxPeriods);
        var values = new Dictionary<int, MetricValues>();
        var errors = new Dictionary<int, string>();
        var ids = metricIds.Distinct().ToList();
        if (ids.Count == 0)
        {
            return new MetricValuesBatch(values, errors);
        }

        List<(Metric Metric, string? DatasetOwner)> stored;
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            stored = (await (from m in db.Metrics.AsNoTracking()
                             where ids.Contains(m.Id)
                             join d in db.Datasets on m.DatasetId equals d.Id
                             // As ValuesAsync: a dataset that is not ready (being built) is not there to read.
                             where d.Status == DatasetStatus.Ready
                             select new { Metric = m, d.OwnerId }).ToListAsync(cancellationToken))
                .Select(r => (r.Metric, (string?)r.OwnerId)).ToList();
        }
        var readable = await access.ReadableAsync(stored.Select(r => r.Metric.DatasetId).Distinct().ToList(),
            stored.GroupBy(r => r.Metric.DatasetId).ToDictionary(g => g.Key, g => g.First().DatasetOwner), cancellationToken);
        var members = new List<BatchMember>();
        foreach (var (metric, _) in stored.Where(r => readable.Contains(r.Metric.DatasetId)).OrderBy(r => r.Metric.Id))
        {
            try
            {
                members.Add(new BatchMember(metric.Id, MetricDefinition.Of(metric)));
            }
            catch (PortalException ex)
            {
                errors[metric.Id] = ex.Message;
            }
        }

        var today = Today();
        foreach (var group in members.GroupBy(m => (m.Definition.DatasetId, m.Definition.TimeColumn, m.Definition.Grain, m.Definition.SegmentId)))
        {
            foreach (var chunk in Chunks(group.ToList(), Math.Max(1, MeasuresPerQuery)))
            {
                await ComputeSharedAsync(chunk, periods, today, values, errors, cancellationToken);
            }
        }
        return new MetricValuesBatch(values, errors) { Definitions = members.ToDictionary(m => m.Id, m => m.Definition) };
    }

    private sealed record BatchMember(int Id, MetricDefinition Definition);

    /// <summary>
    /// A group's metrics in runs of at most <paramref name="limit"/> (<see cref="MaxMeasuresPerQuery"/>): each metric's
    /// aggregates (a ratio's two) weighed by <see cref="Weight"/>, plus one for its last date.
    /// </summary>
    private static IEnumerable<IReadOnlyList<BatchMember>> Chunks(IReadOnlyList<BatchMember> group, int limit)
    {
        var chunk = new List<BatchMember>();
        var measures = 0;
        foreach (var member in group)
        {
            var measure = member.Definition.Measure;
            var own = (measure.Kind == MetricMeasureKind.Ratio ? Weight(measure.Numerator!) + Weight(measure.Denominator!) : Weight(measure)) + 1;
            if (chunk.Count > 0 && measures + own > limit)
            {
                yield return chunk;
                chunk = [];
                measures = 0;
            }
            chunk.Add(member);
            measures += own;
        }
        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private static int Weight(MetricMeasure measure) =>
        measure.Kind is MetricMeasureKind.Customers or MetricMeasureKind.CountDistinct or MetricMeasureKind.Median ? HeavyWeight : 1;

    /// <summary>
    /// Shared queries for the members. When they fail, the members whose own query fails for this user (compiled as
    /// <see cref="ValuesAsync"/> would, not run) get that error and the others share again; when every member compiles
    /// alone (the shared query failed as a whole, e.g. it ran past the time limit on a loaded warehouse), the members
    /// are halved until a metric is computed on its own, exactly as <see cref="ValuesAsync"/> computes it.
    /// </summary>
    private async Task ComputeSharedAsync(
        IReadOnlyList<BatchMember> members, int periods, DateOnly today, Dictionary<int, MetricValues> values, Dictionary<int, string> errors,
        CancellationToken cancellationToken)
    {
        if (members.Count == 0)
        {
            return;
        }
        try
        {
            foreach (var (id, computed) in await SharedAsync(members, periods, today, cancellationToken))
            {
                values[id] = computed;
            }
            return;
        }
        catch (PortalException) when (members.Count == 1)
        {
            try
            {
                values[members[0].Id] = await ComputeAsync(members[0].Definition, periods, null, cancellationToken);
            }
            catch (PortalException ex)
            {
                errors[members[0].Id] = ex.Message;
            }
            return;
        }
        catch (PortalException)
        {
            // Below: find the metrics that fail on their own.
        }

        var fine = new List<BatchMember>();
        foreach (var member in members)
        {
            try
            {
                await queries.CompileAsync(TrendSpec(member.Definition, periods, null), cancellationToken);
                fine.Add(member);
            }
            catch (PortalException ex)
            {
                errors[member.Id] = ex.Message;
            }
        }
        if (fine.Count < members.Count)
        {
            await ComputeSharedAsync(fine, periods, today, values, errors, cancellationToken);
            return;
        }
        var half = fine.Count / 2;
        await ComputeSharedAsync(fine[..half], periods, today, values, errors, cancellationToken);
        await ComputeSharedAsync(fine[half..], periods, today, values, errors, cancellationToken);
    }

    /// <summary>
    /// The members' values from grouped queries over their shared dataset, date column, grain and segment. The first
    /// reads only the <paramref name="periods"/> periods up to today's: a member with rows in today's period has its
    /// whole trend there. The members without (whose latest period with data is older) are read again from all their
    /// rows up to today, sharing a second query.
    /// </summary>
    private async Task<IReadOnlyDictionary<int, MetricValues>> SharedAsync(
        IReadOnlyList<BatchMember> members, int periods, DateOnly today, CancellationToken cancellationToken)
    {
        var first = members[0].Definition;
        var todays = Periods.Start(today, first.Grain);
        var byPeriod = await SharedTrendsAsync(members, Periods.Add(todays, first.Grain, 1 - periods), today, cancellationToken);
        var older = Enumerable.Range(0, members.Count).Where(i => !byPeriod[i].ContainsKey(todays)).ToList();
        if (older.Count > 0)
        {
            var again = await SharedTrendsAsync(older.Select(i => members[i]).ToList(), null, today, cancellationToken);
            for (var j = 0; j < older.Count; j++)
            {
                byPeriod[older[j]] = again[j];
            }
        }

        var values = new Dictionary<int, MetricValues>();
        var partial = new List<(int Index, Shaped Shaped)>();
        for (var i = 0; i < members.Count; i++)
        {
            if (Shape(members[i].Definition, periods, null, byPeriod[i]) is not { } shaped)
            {
                values[members[i].Id] = new MetricValues(first.Grain, null, [], MetricStatus.None);
            }
            else if (shaped.Partial)
            {
                partial.Add((i, shaped));
            }
            else
            {
                values[members[i].Id] = shaped.Values;
            }
        }
        if (partial.Count > 0)
        {
            var sameDays = await SharedSameDaysAsync(partial.Select(p => (members[p.Index], p.Shaped)).ToList(), cancellationToken);
            foreach (var (i, shaped) in partial)
            {
                values[members[i].Id] = shaped.Values with { SameDays = sameDays[members[i].Id] };
            }
        }
        return values;
    }

    /// <summary>
    /// One grouped query (rows up to today, from <paramref name="since"/> when given, of the members' segment, by
    /// period): per member its measure and its last date, each limited to the member's rule. A period in which a member
    /// has no rows has no last date for it, and is left out of its periods, as it would be missing from its own query.
    /// </summary>
    private async Task<Dictionary<DateOnly, (double? Value, DateOnly? Last)>[]> SharedTrendsAsync(
        IReadOnlyList<BatchMember> members, DateOnly? since, DateOnly today, CancellationToken cancellationToken)
    {
        var first = members[0].Definition;
        var measures = new SharedMeasures();
        var lasts = new string[members.Count];
        for (var i = 0; i < members.Count; i++)
        {
            var definition = members[i].Definition;
            var where = Where(definition);
            foreach (var measure in MetricMeasures.ToQuery(definition.Measure, $"m{i}", where))
            {
                measures.Add(measure);
            }
            lasts[i] = measures.Add(new Measure(MeasureKind.Max, $"l{i}", definition.TimeColumn, where));
        }
        var filter = Segment(first);
        filter.Children.Add(since is { } from ? Between(first.TimeColumn, from, today) : UpToToday(first.TimeColumn, today));
        var result = await queries.RunAsync(new QuerySpec
        {
            DatasetId = first.DatasetId,
            Filter = filter,
            GroupBy = [new GroupBy(first.TimeColumn, first.Grain, "d0")],
            Measures = measures.All,
        }, cancellationToken);

        var index = Columns(result);
        var byPeriod = members.Select(_ => new Dictionary<DateOnly, (double? Value, DateOnly? Last)>()).ToArray();
        foreach (var row in result.Rows)
        {
            if (Periods.AsDate(row[index["d0"]]) is not { } start)
            {
                continue;
            }
            for (var i = 0; i < members.Count; i++)
            {
                if (Periods.AsDate(row[index[lasts[i]]]) is { } last)
                {
                    byPeriod[i][start] = (MetricMeasures.Read(members[i].Definition.Measure, $"m{i}", name => row[index[measures.Column(name)]]), last);
                }
            }
        }
        return byPeriod;
    }

    /// <summary>
    /// The same-days comparisons of members whose current period is partial, from one query without groups: each
    /// member's measure over its rows in its own range of days (all within the query's range from the earliest to the latest).
    /// </summary>
    private async Task<IReadOnlyDictionary<int, MetricSameDays>> SharedSameDaysAsync(
        IReadOnlyList<(BatchMember Member, Shaped Shaped)> partial, CancellationToken cancellationToken)
    {
        var first = partial[0].Member.Definition;
        var measures = new SharedMeasures();
        var ranges = new (DateOnly From, DateOnly Through)[partial.Count];
        for (var i = 0; i < partial.Count; i++)
        {
            var (member, shaped) = partial[i];
            ranges[i] = Periods.SameDaysBefore(shaped.Current, member.Definition.Grain, shaped.Values.Through!.Value);
            var where = Rule(member.Definition);
            where.Children.Add(Between(member.Definition.TimeColumn, ranges[i].From, ranges[i].Through));
            foreach (var measure in MetricMeasures.ToQuery(member.Definition.Measure, $"m{i}", where))
            {
                measures.Add(measure);
            }
        }
        var filter = Segment(first);
        filter.Children.Add(Between(first.TimeColumn, ranges.Min(r => r.From), ranges.Max(r => r.Through)));
        var result = await queries.RunAsync(new QuerySpec { DatasetId = first.DatasetId, Filter = filter, Measures = measures.All }, cancellationToken);
        var index = Columns(result);
        var row = result.Rows.Count == 0 ? null : result.Rows[0];
        var sameDays = new Dictionary<int, MetricSameDays>();
        for (var i = 0; i < partial.Count; i++)
        {
            var (member, _) = partial[i];
            var value = row is null
                ? MetricMeasures.OverNoRows(member.Definition.Measure)
                : MetricMeasures.Read(member.Definition.Measure, $"m{i}", name => row[index[measures.Column(name)]]);
            sameDays[member.Id] = new MetricSameDays(ranges[i].From, ranges[i].Through, value, Periods.SameDaysLabel(ranges[i].From, member.Definition.Grain));
        }
        return sameDays;
    }

    /// <summary>
    /// The rows a metric's rule counts, as a filter of its aggregates, or null for every row. Its segment is not in it:
    /// metrics of one segment share queries whose rows are the segment's (<see cref="Segment"/>), as a metric's own query's are.
    /// </summary>
    private static RuleGroup? Where(MetricDefinition definition) => Rule(definition) is { Children.Count: > 0 } rule ? rule : null;

    private static RuleGroup Rule(MetricDefinition definition)
    {
        var rule = new RuleGroup();
        if (!string.IsNullOrEmpty(MetricDefinition.NormalRule(definition.RuleJson)))
        {
            rule.Children.Add(RuleTree.FromJson(definition.RuleJson).Root);
        }
        return rule;
    }

    /// <summary>The rows of a shared query: the segment's customers of the metrics sharing it, or every row.</summary>
    private static RuleGroup Segment(MetricDefinition definition) =>
        definition.SegmentId is { } segment ? new RuleGroup { Children = [new SegmentCondition { SegmentId = segment }] } : new RuleGroup();

    private static FieldCondition Between(string column, DateOnly from, DateOnly through) =>
        new() { Field = column, Operator = RuleOperator.Between, Value = Text(from), Value2 = Text(through) };

    private static Dictionary<string, int> Columns(QueryResult result) =>
        result.Columns.Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i, StringComparer.Ordinal);

    /// <summary>
    /// The aggregates of a shared query, each computed once: two metrics asking for the same aggregate over the same rows
    /// (the same measure, or the last date of the same rule) read the same column.
    /// </summary>
    private sealed class SharedMeasures
    {
        private readonly List<Measure> _all = [];
        private readonly Dictionary<string, string> _byKey = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _columns = new(StringComparer.Ordinal);

        public IReadOnlyList<Measure> All => _all;

        /// <summary>Adds the measure (unless the same one is there) and returns the column it is read from.</summary>
        public string Add(Measure measure)
        {
            var key = string.Join('\u001f', measure.Kind, measure.Column, measure.Times, measure.Where is null ? "" : Canonical(measure.Where));
            if (!_byKey.TryGetValue(key, out var column))
            {
                _all.Add(measure);
                column = _byKey[key] = measure.Alias;
            }
            _columns[measure.Alias] = column;
            return column;
        }

        /// <summary>The column a measure asked for under <paramref name="alias"/> is read from.</summary>
        public string Column(string alias) => _columns[alias];

        /// <summary>A rule as JSON without its node ids (which differ between equal rules saved apart).</summary>
        private static string Canonical(RuleNode node)
        {
            var json = JsonNode.Parse(new RuleTree { Root = node as RuleGroup ?? new RuleGroup { Children = [node] } }.ToJson())!;
            Strip(json);
            return json.ToJsonString();
        }

        private static void Strip(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    obj.Remove("id");
                    foreach (var (_, child) in obj)
                    {
                        Strip(child);
                    }
                    break;
                case JsonArray array:
                    foreach (var child in array)
                    {
                        Strip(child);
                    }
                    break;
            }
        }
    }
}
