using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Metrics;

/// <summary>
/// Many metrics at once (<see cref="MetricService.ValuesManyAsync"/>, the alert checker's read): metrics over the same
/// dataset, date column and grain share one grouped query, and every metric's values are exactly what
/// <see cref="MetricService.ValuesAsync"/> gives it alone, for the Analyst (every row), a Viewer whose row rule keeps
/// North only, and a Viewer from whom the amount column is hidden.
/// </summary>
public sealed class MetricBatchTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoreHarness _harness = null!;
    private Dataset _orders = null!;
    private AppUser _analyst = null!;
    private AppUser _viewer = null!;

    public async ValueTask InitializeAsync()
    {
        (_harness, _orders, _analyst, _viewer) = await MetricOrders.CreateAsync(Ct);
    }

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private void ActAs(AppUser user, params string[] roles) => _harness.CurrentUser.Principal = CoreHarness.Principal(user.Id, user.Email!, roles);

    private Task<T> Metrics<T>(Func<MetricService, Task<T>> action) => _harness.WithAsync(action);

    private static string Rule(params RuleNode[] conditions) => new RuleTree { Root = new RuleGroup { Children = [.. conditions] } }.ToJson();

    private static FieldCondition Is(string field, string value) => new() { Field = field, Operator = RuleOperator.Equals, Value = value };

    private MetricDefinition Metric(string name, MetricMeasure measure, DateBucket grain = DateBucket.Month, string? rule = null, int? segment = null) => new()
    {
        Name = name,
        DatasetId = _orders.Id,
        Measure = measure,
        RuleJson = rule,
        SegmentId = segment,
        TimeColumn = "order_date",
        Grain = grain,
        Direction = MetricDirection.HigherIsBetter,
        Target = 100,
    };

    /// <summary>
    /// A mix: sum, count, customers, average, median, distinct count and ratios; filtered and not; by day, week, month
    /// and quarter; one of a segment's customers; two whose latest period is April (customer 1's orders; orders before May), one with no
    /// rows at all, and two that are the same aggregate under different names. June runs through the 14th, so month,
    /// week and quarter metrics are compared with the same days before.
    /// </summary>
    private async Task<Dictionary<string, int>> CreateMixAsync()
    {
        int segmentId;
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            var segment = new Core.Segments.Segment
            {
                Name = "Customers 2 and 3",
                DatasetId = _orders.Id,
                RuleJson = Rule(new FieldCondition { Field = "customer_id", Operator = RuleOperator.Between, Value = "2", Value2 = "3" }),
                OwnerId = _analyst.Id,
            };
            db.Segments.Add(segment);
            await db.SaveChangesAsync(Ct);
            segmentId = segment.Id;
        }
        var web = Rule(Is("channel", "web"));
        var north = Rule(Is("region", "North"));
        var definitions = new[]
        {
            Metric("Revenue", new MetricMeasure(MetricMeasureKind.Sum, "amount")),
            Metric("Revenue again", new MetricMeasure(MetricMeasureKind.Sum, "amount")),
            Metric("North orders", new MetricMeasure(MetricMeasureKind.Count), rule: north),
            Metric("Customers", new MetricMeasure(MetricMeasureKind.Customers)),
            Metric("Web average order", new MetricMeasure(MetricMeasureKind.Average, "amount"), rule: web),
            Metric("Median order by day", new MetricMeasure(MetricMeasureKind.Median, "amount"), DateBucket.Day),
            Metric("Web revenue by day", new MetricMeasure(MetricMeasureKind.Sum, "amount"), DateBucket.Day, web),
            Metric("Regions by week", new MetricMeasure(MetricMeasureKind.CountDistinct, "region"), DateBucket.Week),
            Metric("Revenue by quarter", new MetricMeasure(MetricMeasureKind.Sum, "amount"), DateBucket.Quarter),
            Metric("North share of web revenue", new MetricMeasure(MetricMeasureKind.Ratio,
                Numerator: new MetricMeasure(MetricMeasureKind.Sum, "amount", FilterJson: north),
                Denominator: new MetricMeasure(MetricMeasureKind.Sum, "amount")), rule: web),
            Metric("Repeat share", new MetricMeasure(MetricMeasureKind.Ratio,
                Numerator: new MetricMeasure(MetricMeasureKind.Customers, FilterJson: Rule(new FactCondition
                {
                    Fact = CustomerFact.OrderCount, Operator = RuleOperator.GreaterOrEqual, Value = "2",
                })),
                Denominator: new MetricMeasure(MetricMeasureKind.Customers))),
            Metric("Segment revenue", new MetricMeasure(MetricMeasureKind.Sum, "amount"), segment: segmentId),
            Metric("Customer 1 revenue", new MetricMeasure(MetricMeasureKind.Sum, "amount"), rule: Rule(Is("customer_id", "1"))),
            Metric("Revenue before May", new MetricMeasure(MetricMeasureKind.Sum, "amount"),
                rule: Rule(new FieldCondition { Field = "order_date", Operator = RuleOperator.Before, Value = "2024-05-01" })),
            Metric("West revenue", new MetricMeasure(MetricMeasureKind.Sum, "amount"), rule: Rule(Is("region", "West"))),
            Metric("Largest shop order", new MetricMeasure(MetricMeasureKind.Max, "amount"), rule: Rule(Is("channel", "shop"))),
        };
        var ids = new Dictionary<string, int>();
        foreach (var definition in definitions)
        {
            ids[definition.Name] = await Metrics(m => m.CreateAsync(definition));
        }
        return ids;
    }

    /// <summary>Each metric's values from <see cref="MetricService.ValuesAsync"/>, or the message it refuses with.</summary>
    private async Task<Dictionary<int, (MetricValues? Values, string? Error)>> OneByOneAsync(IEnumerable<int> ids, int periods)
    {
        var alone = new Dictionary<int, (MetricValues?, string?)>();
        foreach (var id in ids)
        {
            try
            {
                alone[id] = (await Metrics(m => m.ValuesAsync(id, periods, cancellationToken: Ct)), null);
            }
            catch (PortalException ex)
            {
                alone[id] = (null, ex.Message);
            }
        }
        return alone;
    }

    private static void AssertSame(string name, MetricValues expected, MetricValues actual)
    {
        Assert.True(expected.Grain == actual.Grain, $"{name}: grain");
        Assert.True(expected.Through == actual.Through, $"{name}: through {expected.Through} vs {actual.Through}");
        Assert.True(expected.Status == actual.Status, $"{name}: status {expected.Status} vs {actual.Status}");
        Assert.True(expected.Trend.SequenceEqual(actual.Trend),
            $"{name}: trend [{string.Join(", ", expected.Trend)}] vs [{string.Join(", ", actual.Trend)}]");
        Assert.True(Equals(expected.SameDays, actual.SameDays), $"{name}: same days {expected.SameDays} vs {actual.SameDays}");
    }

    private async Task<MetricValuesBatch> AssertMatchesOneByOneAsync(Dictionary<string, int> ids, int periods, int? measuresPerQuery = null)
    {
        var batch = await Metrics(m =>
        {
            m.MeasuresPerQuery = measuresPerQuery ?? MetricService.MaxMeasuresPerQuery;
            return m.ValuesBatchAsync(ids.Values, periods, Ct);
        });
        var many = await Metrics(m => m.ValuesManyAsync(ids.Values, periods, Ct));
        var alone = await OneByOneAsync(ids.Values, periods);
        foreach (var (name, id) in ids)
        {
            var (expected, error) = alone[id];
            if (expected is not null)
            {
                AssertSame(name, expected, batch.Values[id]);
                AssertSame(name, expected, many[id]);
                Assert.False(batch.Errors.ContainsKey(id), name);
            }
            else
            {
                Assert.False(many.ContainsKey(id), $"{name} is left out");
                Assert.False(batch.Values.ContainsKey(id), $"{name} is left out");
                Assert.Equal(error, batch.Errors[id]);
            }
        }
        return batch;
    }

    [Fact]
    public async Task Every_metric_of_a_shared_scan_has_the_values_it_has_alone()
    {
        var ids = await CreateMixAsync();

        var batch = await AssertMatchesOneByOneAsync(ids, 4);
        await AssertMatchesOneByOneAsync(ids, 12);
        // Split into queries of a few aggregates each (a distinct count weighs 10): the same figures.
        await AssertMatchesOneByOneAsync(ids, 4, measuresPerQuery: 12);

        Assert.Empty(batch.Errors);
        var values = batch.Values;
        // The figures themselves (today is 2024-06-15; the order of 20 June is after it).
        Assert.Equal(342, values[ids["Revenue"]].Current!.Value);
        Assert.Equal(2, values[ids["North orders"]].Current!.Value); // 4 and 14 June
        Assert.Equal(new MetricSameDays(new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 14), 0, "Month to date vs same days of May"),
            values[ids["Revenue"]].SameDays);
        Assert.Equal(317, values[ids["Segment revenue"]].Current!.Value); // 10 + 7 + 300
        Assert.Equal(new DateOnly(2024, 4, 1), values[ids["Customer 1 revenue"]].Current!.Start); // its latest month
        // 2 April against 1–2 March (the March order was on the 3rd).
        Assert.Equal((50.0, 0.0), (values[ids["Customer 1 revenue"]].Current!.Value!.Value, values[ids["Customer 1 revenue"]].SameDays!.Value!.Value));
        // 2 and 10 April against 1–10 March.
        Assert.Equal((1049.0, 100.0), (values[ids["Revenue before May"]].Current!.Value!.Value, values[ids["Revenue before May"]].SameDays!.Value!.Value));
        Assert.True(values[ids["West revenue"]].NoData);
        Assert.Equal(new DateOnly(2024, 6, 12), values[ids["Web revenue by day"]].Through); // the 14th's order was in the shop
        Assert.Equal(300, values[ids["Web revenue by day"]].Current!.Value);
        Assert.Equal(new DateOnly(2024, 6, 12), values[ids["Median order by day"]].Trend[^3].Start);
        Assert.Equal(300, values[ids["Median order by day"]].Trend[^3].Value);
        Assert.Null(values[ids["Median order by day"]].Trend[^2].Value); // the 13th: no orders, no median
        // June's customers 2, 3 and 4; 2 and 3 have ordered twice or more (over all their orders).
        Assert.Equal(2.0 / 3, values[ids["Repeat share"]].Current!.Value!.Value, 9);
    }

    [Fact]
    public async Task A_viewer_with_a_row_rule_gets_their_own_values_as_from_each_metric_alone()
    {
        var ids = await CreateMixAsync();
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.UserAttributes.Add(new UserAttribute { UserId = _viewer.Id, Name = "Region", Value = "North" });
            db.RowRules.Add(new RowRule { DatasetId = _orders.Id, Role = Roles.Viewer, RuleJson = Rule(Is("region", "{user.Region}")) });
            db.RowRules.Add(new RowRule { DatasetId = _orders.Id, Role = Roles.Analyst, RuleJson = new RuleTree().ToJson() });
            await db.SaveChangesAsync(Ct);
        }
        var analysts = await Metrics(m => m.ValuesManyAsync(ids.Values, 4, Ct));

        ActAs(_viewer, Roles.Viewer);
        var viewers = (await AssertMatchesOneByOneAsync(ids, 4)).Values;

        Assert.Equal(342, analysts[ids["Revenue"]].Current!.Value);
        Assert.Equal(35, viewers[ids["Revenue"]].Current!.Value); // 10 + 25
        Assert.Equal(1, viewers[ids["Regions by week"]].Current!.Value);
        Assert.Equal(new DateOnly(2024, 6, 4), viewers[ids["Web revenue by day"]].Through); // North's last web order
    }

    [Fact]
    public async Task Metrics_on_a_hidden_column_are_left_out_with_the_error_the_metric_alone_gives_and_the_others_are_computed()
    {
        var ids = await CreateMixAsync();
        var secret = await _harness.ImportTextAsync("secret.csv", "order_id,order_date,amount\n1,2024-06-01,5\n");
        var secretMetric = await Metrics(m => m.CreateAsync(Metric("Secret revenue", new MetricMeasure(MetricMeasureKind.Sum, "amount")) with { DatasetId = secret.Id }));
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.ColumnRules.Add(new ColumnRule { DatasetId = _orders.Id, Column = "amount", Role = Roles.Viewer, Treatment = ColumnTreatment.Hidden });
            await db.SaveChangesAsync(Ct);
        }

        ActAs(_viewer, Roles.Viewer);
        var batch = await AssertMatchesOneByOneAsync(ids, 4);
        var withSecret = await Metrics(m => m.ValuesBatchAsync([.. ids.Values, secretMetric], 4, Ct));

        Assert.Equal(
            ["Customer 1 revenue", "Largest shop order", "Median order by day", "North share of web revenue", "Revenue", "Revenue again",
             "Revenue before May", "Revenue by quarter", "Segment revenue", "Web average order", "Web revenue by day", "West revenue"],
            ids.Where(i => batch.Errors.ContainsKey(i.Value)).Select(i => i.Key).Order(StringComparer.Ordinal));
        Assert.All(batch.Errors.Values, e => Assert.Equal($"You do not have access to the column \"amount\" of {_orders.Name}.", e));
        Assert.Equal(2, batch.Values[ids["North orders"]].Current!.Value);
        // A metric over a dataset the Viewer may not read is neither computed nor an error: it does not exist for them.
        Assert.False(withSecret.Values.ContainsKey(secretMetric));
        Assert.False(withSecret.Errors.ContainsKey(secretMetric));
        Assert.Equal("That metric does not exist or you do not have access to it.",
            (await Assert.ThrowsAsync<PortalException>(() => Metrics(m => m.ValuesAsync(secretMetric, cancellationToken: Ct)))).Message);
    }
}
