using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Datasets;

/// <summary>A metadata store with no datasets but the ones each test adds (no warehouse tables: the rule reads metadata only).</summary>
public sealed class RelationRuleFixture : IAsyncLifetime
{
    public CoreHarness Harness { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Harness = await CoreHarness.CreateAsync();

    public ValueTask DisposeAsync() => Harness.DisposeAsync();

    /// <summary>A dataset with the named columns (role, and whether it is left out).</summary>
    public async Task<int> AddAsync(string name, params (string Name, FieldRole Role, bool Excluded)[] columns)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        var dataset = new Dataset
        {
            Name = name,
            TableName = $"t_{Guid.NewGuid():N}",
            Source = "test",
            Columns = columns.Select((c, i) => new DatasetColumn
            {
                Name = c.Name, Ordinal = i, Role = c.Role, IsExcluded = c.Excluded, Type = ColumnType.Integer, ImportType = ColumnType.Integer, WarehouseType = "BIGINT",
            }).ToList(),
        };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync();
        return dataset.Id;
    }

    public async Task RelateAsync(int from, string fromColumn, int to, string toColumn)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        db.DatasetRelationships.Add(new DatasetRelationship { FromDatasetId = from, FromColumn = fromColumn, ToDatasetId = to, ToColumn = toColumn });
        await db.SaveChangesAsync();
    }

    internal async Task<IReadOnlyList<CustomerKeyRelation>> RelatedAsync(int datasetId)
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        return await DatasetRelations.RelatedByCustomerKeyAsync(db, datasetId, TestContext.Current.CancellationToken);
    }
}

/// <summary>
/// The rule of <see cref="DatasetRelations.RelatedByCustomerKeyAsync"/>: the customer keys on both sides, either
/// direction, each related dataset once; and <see cref="Dataset.CustomerKey"/>.
/// </summary>
public sealed class CustomerKeyRelationTests(RelationRuleFixture f) : IClassFixture<RelationRuleFixture>
{
    private static (string, FieldRole, bool) Key(string name) => (name, FieldRole.CustomerId, false);

    private static (string, FieldRole, bool) Plain(string name) => (name, FieldRole.None, false);

    [Fact]
    public void The_customer_key_is_the_Customer_ID_column_unless_it_is_left_out()
    {
        var key = new DatasetColumn { Name = "id", Role = FieldRole.CustomerId, WarehouseType = "BIGINT" };
        var dataset = new Dataset { Name = "customers", TableName = "t", Source = "test", Columns = [new DatasetColumn { Name = "region", WarehouseType = "VARCHAR" }, key] };
        Assert.Same(key, dataset.CustomerKey);

        key.IsExcluded = true;
        Assert.Null(dataset.CustomerKey);

        Assert.Null(new Dataset { Name = "empty", TableName = "t", Source = "test" }.CustomerKey);
    }

    [Fact]
    public async Task A_link_between_the_customer_keys_counts_in_either_direction()
    {
        var customers = await f.AddAsync("customers", Key("id"), Plain("region"));
        var orders = await f.AddAsync("orders", Plain("order_id"), Key("customer_id"));
        var returns = await f.AddAsync("returns", Key("customer_id"), Plain("returned_on"));
        await f.RelateAsync(orders, "customer_id", customers, "id");
        await f.RelateAsync(customers, "id", returns, "customer_id");

        Assert.Equal([new(orders, "customer_id"), new(returns, "customer_id")], await f.RelatedAsync(customers));
        Assert.Equal([new CustomerKeyRelation(customers, "id")], await f.RelatedAsync(orders));
        Assert.Equal([new CustomerKeyRelation(customers, "id")], await f.RelatedAsync(returns));
    }

    [Fact]
    public async Task A_link_on_a_column_that_is_not_the_customer_key_does_not_count_from_either_side()
    {
        var customers = await f.AddAsync("customers", Key("id"), Plain("region"));
        var orders = await f.AddAsync("orders", Key("customer_id"), Plain("referrer_id"));
        var regions = await f.AddAsync("regions", Plain("region"), Key("manager_id"));
        await f.RelateAsync(orders, "referrer_id", customers, "id");
        await f.RelateAsync(customers, "region", regions, "region");
        await f.RelateAsync(regions, "region", orders, "customer_id");

        Assert.Empty(await f.RelatedAsync(customers));
        Assert.Empty(await f.RelatedAsync(orders));
        Assert.Empty(await f.RelatedAsync(regions));
    }

    [Fact]
    public async Task A_left_out_key_and_a_dataset_without_a_key_relate_nothing()
    {
        var customers = await f.AddAsync("customers", ("id", FieldRole.CustomerId, true), Plain("region"));
        var orders = await f.AddAsync("orders", Key("customer_id"));
        var products = await f.AddAsync("products", Plain("id"));
        await f.RelateAsync(orders, "customer_id", customers, "id");
        await f.RelateAsync(products, "id", orders, "customer_id");

        Assert.Empty(await f.RelatedAsync(customers));
        Assert.Empty(await f.RelatedAsync(orders));
        Assert.Empty(await f.RelatedAsync(products));
    }

    [Fact]
    public async Task Several_links_give_each_related_dataset_once_in_the_order_they_were_made()
    {
        var customers = await f.AddAsync("customers", Key("id"));
        var web = await f.AddAsync("web orders", Key("customer_id"), Plain("gift_for"));
        var shop = await f.AddAsync("shop orders", Key("buyer"));
        await f.RelateAsync(web, "customer_id", customers, "id");
        await f.RelateAsync(shop, "buyer", customers, "id");
        await f.RelateAsync(customers, "id", web, "customer_id");
        await f.RelateAsync(web, "gift_for", customers, "id");

        Assert.Equal([new(web, "customer_id"), new(shop, "buyer")], await f.RelatedAsync(customers));
        Assert.Equal([new CustomerKeyRelation(customers, "id")], await f.RelatedAsync(web));
        Assert.Equal([new CustomerKeyRelation(customers, "id")], await f.RelatedAsync(shop));
    }
}
