using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Metrics;

/// <summary>
/// The metrics library over a real SQLite metadata file and a real DuckDB warehouse: an orders log over four months
/// (one order dated after "today", 2024-06-15), shared with Viewers, who see only the North region's rows.
/// </summary>
public sealed class MetricServiceTests : IAsyncLifetime
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

    private Task Metrics(Func<MetricService, Task> action) => _harness.WithAsync(action);

    private MetricDefinition Revenue(string name = "Revenue") => new()
    {
        Name = name,
        DatasetId = _orders.Id,
        Measure = new MetricMeasure(MetricMeasureKind.Sum, "amount"),
        TimeColumn = "order_date",
        Grain = DateBucket.Month,
        Format = MetricFormat.Currency,
        Unit = "€",
    };

    private static string Rule(params RuleNode[] conditions) => new RuleTree { Root = new RuleGroup { Children = [.. conditions] } }.ToJson();

    private static FieldCondition RegionIs(string region) => new() { Field = "region", Operator = RuleOperator.Equals, Value = region };

    /// <summary>Runs SQL on the warehouse as written here, with the orders table named by {t}: the figures the metric must match.</summary>
    private async Task<Dictionary<string, double?>> SqlAsync(string sql)
    {
        var warehouse = _harness.Services.GetRequiredService<DuckDbWarehouse>();
        await using var connection = await warehouse.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql.Replace("{t}", WarehouseNames.Quote(_orders.TableName), StringComparison.Ordinal);
        var result = new Dictionary<string, double?>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            result[reader.GetString(0)] = reader.IsDBNull(1) ? null : QueryValue.ToDouble(reader.GetValue(1));
        }
        return result;
    }

    private static Dictionary<string, double?> Trend(MetricValues values) =>
        values.Trend.Where(p => p.Value is not null && p.Value != 0).ToDictionary(p => p.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), p => p.Value);

    private async Task RestrictToRegionsAsync()
    {
        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        db.UserAttributes.Add(new UserAttribute { UserId = _viewer.Id, Name = "Region", Value = "North" });
        db.RowRules.Add(new RowRule { DatasetId = _orders.Id, Role = Roles.Viewer, RuleJson = Rule(RegionIs("{user.Region}")) });
        // A rule without conditions: Analysts see every row.
        db.RowRules.Add(new RowRule { DatasetId = _orders.Id, Role = Roles.Analyst, RuleJson = new RuleTree().ToJson() });
        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task Monthly_values_equal_a_hand_written_DuckDB_query_up_to_today()
    {
        var id = await Metrics(m => m.CreateAsync(Revenue()));

        var values = await Metrics(m => m.ValuesAsync(id, 4, cancellationToken: Ct));
        var expected = await SqlAsync(
            "SELECT strftime(date_trunc('month', order_date), '%Y-%m-%d'), sum(amount) FROM {t} WHERE order_date <= DATE '2024-06-15' GROUP BY 1");

        Assert.Equal(["March 2024", "April 2024", "May 2024", "June 2024"], values.Trend.Select(p => p.Label));
        Assert.Equal(expected, Trend(values));
        Assert.Equal(0, values.Trend[2].Value); // no orders in May: a sum of nothing is 0
        Assert.Equal(342, values.Current!.Value); // 10 + 7 + 300 + 25; the order of June 20 is after today
        Assert.Equal(0, values.Previous!.Value);
        Assert.Equal(342, values.Change);
        Assert.Null(values.ChangeRatio); // from 0, no percentage
        Assert.Equal(new DateOnly(2024, 6, 14), values.Through);
    }

    [Fact]
    public async Task A_partial_month_is_compared_with_the_same_days_of_the_month_before_under_the_users_rules()
    {
        // May: 2nd and 7th (100 up to the 14th), then 20th and 31st (1,000 in all). June: the 3rd and the 14th (today is the 15th).
        var daily = await _harness.ImportTextAsync("daily.csv",
            "order_id,region,order_date,amount\n" +
            "1,North,2024-05-02,40\n" +
            "2,South,2024-05-07,60\n" +
            "3,North,2024-05-20,400\n" +
            "4,South,2024-05-31,500\n" +
            "5,North,2024-06-03,30\n" +
            "6,South,2024-06-14,90\n");
        await _harness.WithAsync<DatasetSharing>(s => s.SetAsync(daily.Id, [Roles.Viewer], [], Ct));
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.UserAttributes.Add(new UserAttribute { UserId = _viewer.Id, Name = "Region", Value = "North" });
            db.RowRules.Add(new RowRule { DatasetId = daily.Id, Role = Roles.Viewer, RuleJson = Rule(RegionIs("{user.Region}")) });
            db.RowRules.Add(new RowRule { DatasetId = daily.Id, Role = Roles.Analyst, RuleJson = new RuleTree().ToJson() });
            await db.SaveChangesAsync(Ct);
        }
        var id = await Metrics(m => m.CreateAsync(Revenue() with { DatasetId = daily.Id }));

        var analyst = await Metrics(m => m.ValuesAsync(id, 3, cancellationToken: Ct));
        ActAs(_viewer, Roles.Viewer);
        var viewer = await Metrics(m => m.ValuesAsync(id, 3, cancellationToken: Ct));
        ActAs(_analyst, Roles.Analyst);
        var wholeMay = await Metrics(m => m.ValuesAsync(id, 3, new DateOnly(2024, 5, 31), Ct));

        Assert.Equal(new DateOnly(2024, 6, 14), analyst.Through);
        Assert.True(analyst.Partial);
        Assert.Equal(new MetricSameDays(new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 14), 100, "Month to date vs same days of May"), analyst.SameDays);
        Assert.Equal((120.0, 100.0, 1000.0), (analyst.Current!.Value!.Value, analyst.Compared!.Value, analyst.Previous!.Value!.Value));
        Assert.Equal(20, analyst.Change);
        Assert.Equal(0.2, analyst.ChangeRatio!.Value, 9); // not −88% against the whole of May
        Assert.Equal(-880, analyst.FullChange);
        Assert.Equal(-0.88, analyst.FullChangeRatio!.Value, 9);
        Assert.Equal("Month to date vs same days of May", analyst.ComparedLabel);

        // The North Viewer's figures are counted over North's rows only, the same days too: 30 against 40 (whole May 440).
        Assert.Equal((30.0, 40.0, 440.0), (viewer.Current!.Value!.Value, viewer.SameDays!.Value!.Value, viewer.Previous!.Value!.Value));
        Assert.Equal(-0.25, viewer.ChangeRatio!.Value, 9);

        // A period counted to its last day is compared with the whole period before.
        Assert.Null(wholeMay.SameDays);
        Assert.False(wholeMay.Partial);
        Assert.Equal((1000.0, 0.0), (wholeMay.Current!.Value!.Value, wholeMay.Compared!.Value));
        Assert.Equal("vs April 2024", wholeMay.ComparedLabel);
    }

    [Fact]
    public void The_same_days_of_the_period_before_stop_at_its_end()
    {
        Assert.Equal((new DateOnly(2024, 2, 1), new DateOnly(2024, 2, 29)), Periods.SameDaysBefore(new DateOnly(2024, 3, 1), DateBucket.Month, new DateOnly(2024, 3, 31)));
        Assert.Equal((new DateOnly(2023, 12, 1), new DateOnly(2023, 12, 7)), Periods.SameDaysBefore(new DateOnly(2024, 1, 1), DateBucket.Month, new DateOnly(2024, 1, 7)));
        // 44 days into the second quarter: the first quarter up to 14 February.
        Assert.Equal((new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 14)), Periods.SameDaysBefore(new DateOnly(2024, 4, 1), DateBucket.Quarter, new DateOnly(2024, 5, 15)));
        Assert.Equal((new DateOnly(2024, 6, 3), new DateOnly(2024, 6, 5)), Periods.SameDaysBefore(new DateOnly(2024, 6, 10), DateBucket.Week, new DateOnly(2024, 6, 12)));
        Assert.Equal((new DateOnly(2023, 1, 1), new DateOnly(2023, 3, 1)), Periods.SameDaysBefore(new DateOnly(2024, 1, 1), DateBucket.Year, new DateOnly(2024, 2, 29)));

        Assert.Equal("Month to date vs same days of November", Periods.SameDaysLabel(new DateOnly(2024, 11, 1), DateBucket.Month));
        Assert.Equal("Quarter to date vs same days of Q1 2024", Periods.SameDaysLabel(new DateOnly(2024, 1, 1), DateBucket.Quarter));
        Assert.Equal("Week to date vs same days of the week of 2024-06-03", Periods.SameDaysLabel(new DateOnly(2024, 6, 3), DateBucket.Week));
        Assert.Equal("Year to date vs same days of 2023", Periods.SameDaysLabel(new DateOnly(2023, 1, 1), DateBucket.Year));
    }

    [Fact]
    public async Task A_day_given_counts_its_period_up_to_that_day()
    {
        var id = await Metrics(m => m.CreateAsync(Revenue() with { Grain = DateBucket.Quarter }));

        var values = await Metrics(m => m.ValuesAsync(id, 2, new DateOnly(2024, 6, 30), Ct));
        var expected = await SqlAsync(
            "SELECT strftime(date_trunc('quarter', order_date), '%Y-%m-%d'), sum(amount) FROM {t} WHERE order_date <= DATE '2024-06-30' GROUP BY 1");

        Assert.Equal(["Q1 2024", "Q2 2024"], values.Trend.Select(p => p.Label));
        Assert.Equal(expected, Trend(values));
        Assert.Equal(100, values.Previous!.Value);
        Assert.Equal(1891, values.Current!.Value);
        Assert.Equal(17.91, values.ChangeRatio!.Value, 6);
    }

    [Fact]
    public async Task A_ratio_is_two_filtered_measures_and_matches_the_SQL()
    {
        var share = Revenue("North share") with
        {
            Measure = new MetricMeasure(MetricMeasureKind.Ratio,
                Numerator: new MetricMeasure(MetricMeasureKind.Sum, "amount", FilterJson: Rule(RegionIs("North"))),
                Denominator: new MetricMeasure(MetricMeasureKind.Sum, "amount")),
            RuleJson = Rule(new FieldCondition { Field = "channel", Operator = RuleOperator.Equals, Value = "web" }),
            Format = MetricFormat.Percent,
            Unit = null,
            Decimals = 1,
        };
        var id = await Metrics(m => m.CreateAsync(share));

        var values = await Metrics(m => m.ValuesAsync(id, 4, cancellationToken: Ct));
        var expected = await SqlAsync(
            "SELECT strftime(date_trunc('month', order_date), '%Y-%m-%d'), coalesce(sum(amount) FILTER (WHERE region = 'North'), 0) / sum(amount) " +
            "FROM {t} WHERE order_date <= DATE '2024-06-15' AND channel = 'web' GROUP BY 1");

        Assert.Equal(expected.Keys.Order(), values.Trend.Where(p => p.Value is not null).Select(p => p.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Order());
        foreach (var point in values.Trend.Where(p => p.Value is not null))
        {
            Assert.Equal(expected[point.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)]!.Value, point.Value!.Value, 9);
        }
        Assert.Equal(0, values.Trend[1].Value); // April: no North revenue is 0, not unknown
        Assert.Null(values.Trend[2].Value); // May: 0 ÷ 0 is no value
        Assert.Equal(10.0 / 310, values.Current!.Value!.Value, 9);
        Assert.Equal("3.2%", MetricFormatting.Format(values.Current.Value, MetricFormat.Percent, null, 1, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_viewer_with_a_row_rule_sees_a_different_value_than_the_analyst()
    {
        await RestrictToRegionsAsync();
        var id = await Metrics(m => m.CreateAsync(Revenue()));

        var analysts = await Metrics(m => m.ValuesAsync(id, 4, cancellationToken: Ct));
        ActAs(_viewer, Roles.Viewer);
        var viewers = await Metrics(m => m.ValuesAsync(id, 4, cancellationToken: Ct));
        var north = await SqlAsync(
            "SELECT strftime(date_trunc('month', order_date), '%Y-%m-%d'), sum(amount) FROM {t} WHERE order_date <= DATE '2024-06-15' AND region = 'North' GROUP BY 1");

        Assert.Equal(342, analysts.Current!.Value);
        Assert.Equal(35, viewers.Current!.Value); // 10 + 25
        Assert.Equal(north, Trend(viewers));
        // The viewer lists and opens the metric: it is over a dataset shared with them.
        var listed = await Metrics(m => m.ListAsync(Ct));
        Assert.Equal(["Revenue"], listed.Select(l => l.Name));
        Assert.False(listed[0].CanEdit);
    }

    [Fact]
    public async Task A_metric_of_one_segment_counts_only_its_customers()
    {
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
            var id = await Metrics(m => m.CreateAsync(Revenue() with { SegmentId = segment.Id }));

            var values = await Metrics(m => m.ValuesAsync(id, 4, cancellationToken: Ct));

            Assert.Equal(317, values.Current!.Value); // 10 + 7 + 300
            Assert.Equal("Customers 2 and 3", (await Metrics(m => m.GetAsync(id, Ct))).SegmentName);
        }
    }

    [Fact]
    public async Task Definitions_that_do_not_fit_the_data_are_refused_with_clear_messages()
    {
        async Task<string> Refusal(MetricDefinition definition) =>
            (await Assert.ThrowsAsync<PortalException>(() => Metrics(m => m.CreateAsync(definition)))).Message;

        Assert.Equal("Give the metric a name.", await Refusal(Revenue(" ")));
        Assert.Equal("“region” is not a number column; choose a number column to sum.",
            await Refusal(Revenue() with { Measure = new MetricMeasure(MetricMeasureKind.Sum, "region") }));
        Assert.Equal($"{_orders.Name} has no column “price” (or you may not see it).",
            await Refusal(Revenue() with { Measure = new MetricMeasure(MetricMeasureKind.Average, "price") }));
        Assert.Equal("Choose the column to sum for the numerator.", await Refusal(Revenue() with
        {
            Measure = new MetricMeasure(MetricMeasureKind.Ratio, Numerator: new MetricMeasure(MetricMeasureKind.Sum), Denominator: new MetricMeasure(MetricMeasureKind.Count)),
        }));
        Assert.Equal("“amount” is not a date column; choose a date column to measure the metric along.",
            await Refusal(Revenue() with { TimeColumn = "amount" }));
        Assert.StartsWith("The filter is not complete:",
            await Refusal(Revenue() with { RuleJson = Rule(new FieldCondition { Field = "amount", Operator = RuleOperator.Greater }) }));
        Assert.Equal("With higher is better, the warning line (€40) must be at or below the target (€30).",
            await Refusal(Revenue() with { Direction = MetricDirection.HigherIsBetter, Target = 30, WarnAt = 40 }));
        Assert.Equal("With lower is better, the bad line (€10) must be at or above the warning line (€20).",
            await Refusal(Revenue() with { Direction = MetricDirection.LowerIsBetter, WarnAt = 20, BadAt = 10 }));
        Assert.Equal("Warning and bad lines need a direction: say whether higher or lower is better.",
            await Refusal(Revenue() with { WarnAt = 20 }));

        Assert.Empty(await Metrics(m => m.ListAsync(Ct)));
    }

    [Fact]
    public async Task A_name_taken_on_the_same_dataset_is_refused_whatever_its_case()
    {
        await Metrics(m => m.CreateAsync(Revenue("Revenue")));

        var clash = await Assert.ThrowsAsync<PortalException>(() => Metrics(m => m.CreateAsync(Revenue(" REVENUE "))));

        Assert.Equal($"A metric called “REVENUE” already exists on {_orders.Name}.", clash.Message);
        var other = await Metrics(m => m.CreateAsync(Revenue("Net revenue")));
        var rename = await Assert.ThrowsAsync<PortalException>(() => Metrics(m => m.UpdateAsync(other, Revenue("revenue"), Ct)));
        Assert.Equal($"A metric called “revenue” already exists on {_orders.Name}.", rename.Message);
    }

    [Fact]
    public async Task Every_change_is_recorded_with_who_made_it_and_what_changed()
    {
        var id = await Metrics(m => m.CreateAsync(Revenue()));
        var admin = await _harness.CreateUserAsync("root@example.com", "Correct-horse-9", Roles.Admin);
        ActAs(admin, Roles.Admin);

        await Metrics(m => m.UpdateAsync(id, Revenue() with
        {
            Measure = new MetricMeasure(MetricMeasureKind.Average, "amount"),
            Direction = MetricDirection.HigherIsBetter,
            Target = 100,
            Description = "Average order value",
        }, Ct));
        await Metrics(m => m.UpdateAsync(id, Revenue() with
        {
            Measure = new MetricMeasure(MetricMeasureKind.Average, "amount"),
            Direction = MetricDirection.HigherIsBetter,
            Target = 100,
            Description = "Average order value",
        }, Ct)); // nothing changed: nothing recorded

        var history = await Metrics(m => m.HistoryAsync(id, Ct));

        Assert.Equal(["root@example.com", "analyst@example.com"], history.Select(h => h.User));
        Assert.Equal(
        [
            "Description: (none) → “Average order value”",
            "Measure: “Sum of amount” → “Average amount”",
            "Direction: “neither way is better” → “higher is better”",
            "Target: (none) → “€100”",
        ], history[0].Changes);
        Assert.Equal(MetricMeasureKind.Sum, history[0].Before!.Measure.Kind);
        Assert.Equal(MetricMeasureKind.Average, history[0].After.Measure.Kind);
        Assert.StartsWith("Created: Sum of amount of", Assert.Single(history[1].Changes));
        Assert.Null(history[1].Before);
    }

    [Fact]
    public async Task Only_an_Admin_certifies_and_a_change_to_what_it_computes_takes_the_mark_away()
    {
        var id = await Metrics(m => m.CreateAsync(Revenue()));

        var refused = await Assert.ThrowsAsync<PermissionDeniedException>(() => Metrics(m => m.CertifyAsync(id, true, Ct)));
        Assert.Equal("Only an Admin can certify a metric.", refused.Message);

        var admin = await _harness.CreateUserAsync("root@example.com", "Correct-horse-9", Roles.Admin);
        ActAs(admin, Roles.Admin);
        await Metrics(m => m.CertifyAsync(id, true, Ct));
        var certified = await Metrics(m => m.GetAsync(id, Ct));
        Assert.True(certified.Certified);
        Assert.Equal("root@example.com", certified.CertifiedBy);

        // A new description keeps the mark; a new measure does not.
        ActAs(_analyst, Roles.Analyst);
        await Metrics(m => m.UpdateAsync(id, Revenue() with { Description = "All orders" }, Ct));
        Assert.True((await Metrics(m => m.GetAsync(id, Ct))).Certified);
        await Metrics(m => m.UpdateAsync(id, Revenue() with { Description = "All orders", Measure = new MetricMeasure(MetricMeasureKind.Count) }, Ct));

        Assert.False((await Metrics(m => m.GetAsync(id, Ct))).Certified);
        var history = await Metrics(m => m.HistoryAsync(id, Ct));
        Assert.Contains("Certification removed: what the metric computes changed", history[0].Changes);
        Assert.Equal(["Certified"], history[2].Changes);
        Assert.Equal("root@example.com", history[2].User);
    }

    [Fact]
    public async Task Only_the_owner_or_an_Admin_changes_a_metric_and_others_without_the_data_do_not_see_it()
    {
        var id = await Metrics(m => m.CreateAsync(Revenue()));
        var colleague = await _harness.CreateUserAsync("colleague@example.com", "Correct-horse-9", Roles.Analyst);
        ActAs(colleague, Roles.Analyst);

        // The orders are shared with Viewers only: another Analyst neither lists nor opens the metric.
        Assert.Empty(await Metrics(m => m.ListAsync(Ct)));
        var missing = await Assert.ThrowsAsync<PortalException>(() => Metrics(m => m.ValuesAsync(id, cancellationToken: Ct)));
        Assert.Equal("That metric does not exist or you do not have access to it.", missing.Message);

        ActAs(_analyst, Roles.Analyst);
        await _harness.WithAsync<DatasetSharing>(s => s.SetAsync(_orders.Id, [Roles.Viewer, Roles.Analyst], [], Ct));
        ActAs(colleague, Roles.Analyst);
        Assert.Single(await Metrics(m => m.ListAsync(Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Metrics(m => m.UpdateAsync(id, Revenue("Mine now"), Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Metrics(m => m.DeleteAsync(id, Ct)));

        ActAs(_analyst, Roles.Analyst);
        await Metrics(m => m.DeleteAsync(id, Ct));
        Assert.Empty(await Metrics(m => m.ListAsync(Ct)));
    }

    [Fact]
    public async Task Status_follows_the_target_and_bands_of_the_direction()
    {
        var id = await Metrics(m => m.CreateAsync(Revenue() with { Direction = MetricDirection.HigherIsBetter, Target = 400, WarnAt = 300, BadAt = 100 }));

        var values = await Metrics(m => m.ValuesAsync(id, 2, cancellationToken: Ct));

        Assert.Equal(342, values.Current!.Value);
        Assert.Equal(MetricStatus.OffTarget, values.Status);
        Assert.Equal(MetricStatus.Warning, MetricFormatting.Status(200, MetricDirection.HigherIsBetter, 400, 300, 100));
        Assert.Equal(MetricStatus.Bad, MetricFormatting.Status(50, MetricDirection.HigherIsBetter, 400, 300, 100));
        Assert.Equal(MetricStatus.OnTarget, MetricFormatting.Status(5, MetricDirection.LowerIsBetter, 10, 20, 30));
        Assert.Equal(MetricStatus.Bad, MetricFormatting.Status(31, MetricDirection.LowerIsBetter, 10, 20, 30));
    }
}
