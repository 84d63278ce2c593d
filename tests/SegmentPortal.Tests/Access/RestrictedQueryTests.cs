using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Tests.Import;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Access;

/// <summary>
/// Row and column rules through the real query layer on DuckDB: a Viewer with Region = North, a row rule
/// <c>region = {user.Region}</c> on customers and orders, e-mail masked and phone hashed for Viewers.
/// </summary>
public sealed class RestrictedQueryTests : IAsyncLifetime
{
    private const string Customers =
        "id,name,region,email,phone\n" +
        "1,Ann,North,ann@example.com,13812345678\n" +
        "2,Bo,South,bo@example.com,13812345678\n" +
        "3,Cy,North,cy@example.org,5550100\n" +
        "4,Di,East,,\n";

    private const string Orders =
        "order_id,customer_id,region,order_date,amount\n" +
        "101,1,North,2024-06-01,100\n" +
        "102,1,North,2024-06-02,50\n" +
        "103,2,South,2024-06-03,999\n" +
        "104,3,North,2024-06-04,10\n" +
        "105,3,South,2024-06-05,7\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CoreHarness _harness = null!;
    private Dataset _customers = null!;
    private Dataset _orders = null!;
    private AppUser _viewer = null!;
    private AppUser _analyst = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync(clock: new FixedClock(new DateTimeOffset(2024, 6, 15, 12, 0, 0, TimeSpan.Zero)));
        _analyst = await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        _customers = await _harness.ImportTextAsync("customers.csv", Customers);
        _orders = await _harness.ImportTextAsync("orders.csv", Orders);
        _customers = await _harness.SetRolesAsync(_customers, new() { ["id"] = FieldRole.CustomerId, ["region"] = FieldRole.Dimension });
        _orders = await _harness.SetRolesAsync(_orders, new()
        {
            ["order_id"] = FieldRole.OrderId,
            ["customer_id"] = FieldRole.CustomerId,
            ["order_date"] = FieldRole.EventDate,
            ["amount"] = FieldRole.Amount,
        });
        await _harness.WithAsync<DatasetCatalog>(c => c.RelateAsync(_orders.Id, "customer_id", _customers.Id, "id"));
        foreach (var dataset in new[] { _customers, _orders })
        {
            await _harness.WithAsync<DatasetSharing>(s => s.SetAsync(dataset.Id, [Roles.Viewer], [], Ct));
        }
        _viewer = await _harness.CreateUserAsync("vera@example.com", "Correct-horse-9", Roles.Viewer);

        await using var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct);
        db.UserAttributes.Add(new UserAttribute { UserId = _viewer.Id, Name = "Region", Value = "North" });
        foreach (var dataset in new[] { _customers, _orders })
        {
            db.RowRules.Add(new RowRule { DatasetId = dataset.Id, Role = Roles.Viewer, RuleJson = RegionIs("{user.Region}") });
        }
        db.ColumnRules.Add(new ColumnRule { DatasetId = _customers.Id, Column = "email", Role = Roles.Viewer, Treatment = ColumnTreatment.Masked });
        db.ColumnRules.Add(new ColumnRule { DatasetId = _customers.Id, Column = "phone", Role = Roles.Viewer, Treatment = ColumnTreatment.Hashed });
        await db.SaveChangesAsync(Ct);
    }

    public async ValueTask DisposeAsync() => await _harness.DisposeAsync();

    private static string RegionIs(string value) =>
        new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.Equals, Value = value }] } }.ToJson();

    private void ActAs(AppUser user, params string[] roles) => _harness.CurrentUser.Principal = CoreHarness.Principal(user.Id, user.Email!, roles);

    private Task<QueryResult> RunAsync(QuerySpec spec) => _harness.WithAsync<QueryService, QueryResult>(q => q.RunAsync(spec, Ct));

    private async Task<List<string>> RowsAsync(params string[] columns)
    {
        var result = await RunAsync(new QuerySpec { DatasetId = _customers.Id, Columns = columns, Sort = [new SortBy("id")] });
        return result.Rows.Select(r => string.Join("|", r.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))).ToList();
    }

    [Fact]
    public async Task A_viewer_sees_only_the_rows_of_their_region_with_emails_masked_and_phones_hashed()
    {
        ActAs(_viewer, Roles.Viewer);

        var rows = await RowsAsync("id", "name", "email");
        var phones = (await RunAsync(new QuerySpec { DatasetId = _customers.Id, Columns = ["phone"], Sort = [new SortBy("phone")] })).Rows.Select(r => (string?)r[0]).ToList();

        Assert.Equal(["1|Ann|a***@example.com", "3|Cy|c***@example.org"], rows);
        Assert.All(phones, p => Assert.Matches("^[0-9a-f]{16}$", p!));
        Assert.DoesNotContain("13812345678", phones);
    }

    [Fact]
    public async Task Hashed_values_stay_equal_so_counts_still_work()
    {
        ActAs(_viewer, Roles.Viewer);
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.UserAttributes.Single(a => a.UserId == _viewer.Id).Value = "North, South";
            await db.SaveChangesAsync(Ct);
        }
        var rule = new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = ["{user.Region}"] }] } }.ToJson();
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            foreach (var r in db.RowRules.Where(r => r.DatasetId == _customers.Id))
            {
                r.RuleJson = rule;
            }
            await db.SaveChangesAsync(Ct);
        }

        var result = await RunAsync(new QuerySpec
        {
            DatasetId = _customers.Id,
            GroupBy = [new GroupBy("phone")],
            Measures = [new Measure(MeasureKind.Count, "n")],
            Sort = [new SortBy("n", Descending: true)],
        });

        // Ann and Bo share a phone number: one hash, counted twice; Cy's is another.
        Assert.Equal([2L, 1L], result.Rows.Select(r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture)));
        Assert.NotEqual(result.Rows[0][0], result.Rows[1][0]);
    }

    [Fact]
    public async Task Customer_facts_count_only_the_orders_the_viewer_may_see()
    {
        ActAs(_viewer, Roles.Viewer);

        var result = await RunAsync(new QuerySpec
        {
            DatasetId = _customers.Id,
            Columns = ["id"],
            Facts = [new FactColumn("spent", CustomerMeasure.TotalAmount)],
            Sort = [new SortBy("id")],
        });

        // Customer 3's South order (7) is not the viewer's to see.
        Assert.Equal(["1|150", "3|10"], result.Rows.Select(r => $"{r[0]}|{QueryValue.ToDouble(r[1])}"));
    }

    [Fact]
    public async Task The_rules_apply_to_every_dataset_a_query_reads_and_the_analyst_sees_all()
    {
        ActAs(_analyst, Roles.Analyst);
        // The analyst owns the data but no rule is for Analysts: the restricted datasets show them nothing (fail closed)…
        Assert.Empty(await RowsAsync("id"));

        // …until a rule without conditions gives Analysts every row.
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.RowRules.Add(new RowRule { DatasetId = _customers.Id, Role = Roles.Analyst, RuleJson = new RuleTree().ToJson() });
            await db.SaveChangesAsync(Ct);
        }
        Assert.Equal(["1|ann@example.com", "2|bo@example.com", "3|cy@example.org", "4|"], await RowsAsync("id", "email"));
    }

    [Fact]
    public async Task A_viewer_without_the_attribute_a_rule_needs_sees_no_rows()
    {
        var other = await _harness.CreateUserAsync("otto@example.com", "Correct-horse-9", Roles.Viewer);
        ActAs(other, Roles.Viewer);

        Assert.Empty(await RowsAsync("id"));
    }

    [Fact]
    public async Task A_changed_attribute_applies_to_the_next_query()
    {
        ActAs(_viewer, Roles.Viewer);
        Assert.Equal(["1", "3"], await RowsAsync("id"));

        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.UserAttributes.Single(a => a.UserId == _viewer.Id).Value = "South";
            await db.SaveChangesAsync(Ct);
        }

        Assert.Equal(["2"], await RowsAsync("id"));
    }

    [Fact]
    public async Task Admins_see_everything_unless_the_setting_rules_them_too()
    {
        var admin = await _harness.CreateUserAsync("root@example.com", "Correct-horse-9", Roles.Admin);
        ActAs(admin, Roles.Admin);
        Assert.Equal(4, (await RowsAsync("id")).Count);

        await _harness.WithAsync<PortalSettings>(s => s.SetAsync(PortalSettings.AdminsSeeAllData, "false", Ct));

        Assert.Empty(await RowsAsync("id"));
    }

    [Fact]
    public async Task A_disabled_user_is_refused_on_the_next_query()
    {
        ActAs(_viewer, Roles.Viewer);
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.Users.Single(u => u.Id == _viewer.Id).IsDisabled = true;
            await db.SaveChangesAsync(Ct);
        }

        await Assert.ThrowsAsync<PermissionDeniedException>(() => RowsAsync("id"));
    }

    [Fact]
    public async Task A_hidden_column_is_not_described_and_is_refused_in_a_query()
    {
        await using (var db = await _harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync(Ct))
        {
            db.ColumnRules.Single(r => r.Column == "phone").Treatment = ColumnTreatment.Hidden;
            await db.SaveChangesAsync(Ct);
        }
        ActAs(_viewer, Roles.Viewer);

        var described = await _harness.WithAsync<PermissionPolicy, QueryDataset>(async p =>
            await p.DescribeAsync(await _harness.WithAsync<Authorizer, Dataset>(a => a.RequireReadableAsync(_customers.Id, Ct)), Ct));
        var error = await Assert.ThrowsAsync<PortalException>(() => RowsAsync("id", "phone"));

        Assert.DoesNotContain("phone", described.Fields.Select(f => f.Name));
        Assert.Contains("You do not have access to the column \"phone\"", error.Message);
        Assert.DoesNotContain("phone", (await RunAsync(new QuerySpec { DatasetId = _customers.Id })).Columns);
    }
}
