using SegmentPortal.Core.Demo;

namespace SegmentPortal.Tests.Demo;

public sealed class DemoDataGeneratorTests
{
    private static readonly DateOnly AsOf = new(2026, 6, 30);

    private static (List<DemoCustomer> Customers, List<DemoOrder> Orders) Generate(DemoDataSize size)
    {
        var generator = new DemoDataGenerator(size, AsOf);
        var customers = generator.Customers().ToList();
        return (customers, generator.Orders().ToList());
    }

    private static readonly Lazy<(List<DemoCustomer> Customers, List<DemoOrder> Orders)> TwentyThousand =
        new(() => Generate(new DemoDataSize(Customers: 20_000)));

    [Fact]
    public void Same_size_seed_and_date_give_the_same_rows()
    {
        var a = Generate(new DemoDataSize(Customers: 2_000));
        var b = Generate(new DemoDataSize(Customers: 2_000));

        Assert.Equal(a.Customers, b.Customers);
        Assert.Equal(a.Orders, b.Orders);
    }

    [Fact]
    public void An_order_is_sold_in_its_customers_region()
    {
        var (customers, orders) = TwentyThousand.Value;
        var regions = customers.ToDictionary(c => c.CustomerId, c => c.Region);

        Assert.All(orders, o => Assert.Equal(regions[o.CustomerId], o.Region));
        Assert.True(orders.Select(o => o.Region).Distinct().Count() > 1);
    }

    [Fact]
    public void Another_seed_gives_other_rows()
    {
        var a = Generate(new DemoDataSize(Customers: 500, Seed: 1));
        var b = Generate(new DemoDataSize(Customers: 500, Seed: 2));

        Assert.NotEqual(a.Orders.Select(o => o.Amount), b.Orders.Select(o => o.Amount));
    }

    [Fact]
    public void About_ten_orders_per_customer_over_the_last_24_months()
    {
        var (customers, orders) = TwentyThousand.Value;

        Assert.Equal(20_000, customers.Count);
        Assert.InRange(orders.Count, 190_000, 210_000);
        Assert.All(orders, o => Assert.InRange(o.OrderDate, AsOf.AddMonths(-24), AsOf));
        Assert.Equal(orders.Count, orders.Select(o => o.OrderId).Distinct().Count());
        Assert.Equal(customers.Count, customers.Select(c => c.CustomerId).Distinct().Count());
    }

    [Fact]
    public void Spend_is_skewed_towards_a_few_heavy_buyers()
    {
        var (_, orders) = TwentyThousand.Value;
        var spend = orders.GroupBy(o => o.CustomerId).Select(g => g.Sum(o => o.Amount)).OrderDescending().ToList();
        var top = spend.Take(spend.Count / 10).Sum();

        // The top 10% of buyers bring in well over 10% of revenue (about a third).
        Assert.InRange(top / spend.Sum(), 0.25m, 0.6m);
    }

    [Fact]
    public void Orders_peak_in_november_and_december()
    {
        var (_, orders) = TwentyThousand.Value;
        var perMonth = orders.GroupBy(o => o.OrderDate.Month).ToDictionary(g => g.Key, g => g.Count());

        Assert.True(perMonth[12] > perMonth[2] * 1.6, $"December {perMonth[12]} vs February {perMonth[2]}");
        Assert.True(perMonth[11] > perMonth[3] * 1.3, $"November {perMonth[11]} vs March {perMonth[3]}");
    }

    [Fact]
    public void Some_customers_are_dormant_and_some_never_ordered()
    {
        var (customers, orders) = TwentyThousand.Value;
        var lastOrder = orders.GroupBy(o => o.CustomerId).ToDictionary(g => g.Key, g => g.Max(o => o.OrderDate));

        var never = customers.Count(c => !lastOrder.ContainsKey(c.CustomerId));
        var dormant = lastOrder.Values.Count(d => d < AsOf.AddDays(-180));
        Assert.InRange(never / (double)customers.Count, 0.04, 0.2);
        Assert.InRange(dormant / (double)lastOrder.Count, 0.1, 0.4);
    }

    [Fact]
    public void A_few_values_are_missing()
    {
        var (customers, orders) = TwentyThousand.Value;

        Assert.InRange(customers.Count(c => c.Phone is null) / (double)customers.Count, 0.01, 0.04);
        Assert.InRange(customers.Count(c => c.BirthYear is null) / (double)customers.Count, 0.02, 0.05);
        Assert.Contains(customers, c => c.City is null);
        Assert.Contains(orders, o => o.Category is null);
        Assert.All(customers, c => Assert.False(string.IsNullOrEmpty(c.Region)));
    }

    [Fact]
    public void Values_look_like_retail_data()
    {
        var (customers, orders) = TwentyThousand.Value;

        Assert.Equal(5, customers.Select(c => c.Region).Distinct().Count());
        Assert.All(customers, c => Assert.Matches(@"^[a-z]+\.[a-z]+\d+@([a-z]+\.)?example\.(com|org|net)$", c.Email));
        Assert.All(orders, o => Assert.True(o.Amount > 0));
        Assert.InRange(orders.Average(o => o.Amount), 30m, 150m);
        Assert.InRange(orders.Count(o => o.Returned) / (double)orders.Count, 0.02, 0.08);
        Assert.Equal(4, orders.Select(o => o.Channel).Distinct().Count());
    }

    [Fact]
    public void Orders_need_the_customers_first()
    {
        var generator = new DemoDataGenerator(new DemoDataSize(Customers: 10), AsOf);

        Assert.Throws<InvalidOperationException>(() => generator.Orders().ToList());
    }
}
