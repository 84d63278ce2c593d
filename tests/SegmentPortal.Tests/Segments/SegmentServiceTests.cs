using SegmentPortal.Core;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Tests.Queries;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Segments;

public sealed class SegmentServiceTests(ShopFixture shop) : IClassFixture<ShopFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<T> Segments<T>(Func<SegmentService, Task<T>> action) => shop.Harness.WithAsync(action);

    private Task Segments(Func<SegmentService, Task> action) => shop.Harness.WithAsync(action);

    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..(name.Length + 9)];

    [Fact]
    public async Task The_live_count_gives_matches_share_and_what_each_condition_narrows_to()
    {
        var north = FieldIn("region", RuleOperator.In, "North", "East");
        var spent = Fact(CustomerFact.TotalAmount, RuleOperator.Greater, "1000", window: 90);
        var incomplete = Field("birth_year", RuleOperator.Greater);

        var count = await Segments(s => s.CountAsync(shop.CustomerData.Id, All(north, spent, incomplete), Ct));

        Assert.Equal(2, count.Matching);
        Assert.Equal(6, count.Total);
        Assert.Equal(1 / 3.0, count.Share, 6);
        Assert.Equal(3, count.ByCondition[north.Id]);
        Assert.Equal(2, count.ByCondition[spent.Id]);
        Assert.False(count.ByCondition.ContainsKey(incomplete.Id));
        Assert.Equal(incomplete.Id, Assert.Single(count.Problems).NodeId);
    }

    [Fact]
    public async Task A_saved_segment_is_listed_with_its_size_and_reopens_with_its_rule()
    {
        var name = Unique("Northern VIPs");
        var rule = new RuleTree { Root = All(FieldIn("region", RuleOperator.In, "North"), Field("vip", RuleOperator.IsTrue)) };

        var id = await Segments(s => s.CreateAsync(new SegmentDraft(name, shop.CustomerData.Id, rule, "VIPs up north", ["vip", "north"]), Ct));

        var row = Assert.Single(await Segments(s => s.ListAsync(Ct)), r => r.Id == id);
        Assert.Equal(1, row.Size);
        Assert.Equal(6, row.Population);
        Assert.Equal(["vip", "north"], row.Tags);
        Assert.True(row.CanEdit);
        var (segment, reopened, _) = await Segments(s => s.GetAsync(id, Ct));
        Assert.Equal(rule.ToJson(), reopened.ToJson());
        Assert.Equal("VIPs up north", segment.Description);
    }

    [Fact]
    public async Task Refreshes_keep_a_history_of_size_and_who_entered_and_left()
    {
        var id = await Segments(s => s.CreateAsync(new SegmentDraft(Unique("History"), shop.CustomerData.Id,
            new RuleTree { Root = All(FieldIn("region", RuleOperator.In, "North")) }), Ct));
        await Segments(s => s.UpdateAsync(id, new SegmentDraft(Unique("History"), shop.CustomerData.Id,
            new RuleTree { Root = All(FieldIn("region", RuleOperator.In, "North", "South")) }), Ct));
        await Segments(s => s.UpdateAsync(id, new SegmentDraft(Unique("History"), shop.CustomerData.Id,
            new RuleTree { Root = All(FieldIn("region", RuleOperator.In, "South")) }), Ct));

        var history = await Segments(s => s.HistoryAsync(id, Ct));

        Assert.Equal([2L, 3, 1], history.Select(h => h.Size));
        Assert.Equal([2L, 1, 0], history.Select(h => h.Entered));
        Assert.Equal([0L, 0, 2], history.Select(h => h.Left));
        var (entered, left) = await Segments(s => s.ChangesAsync(id, history[2].Id, Ct));
        Assert.Empty(entered);
        Assert.Equal(["1", "4"], left);
    }

    [Fact]
    public async Task Two_or_three_segments_compare_by_overlap()
    {
        var north = await Segments(s => s.CreateAsync(new SegmentDraft(Unique("North"), shop.CustomerData.Id,
            new RuleTree { Root = All(FieldIn("region", RuleOperator.In, "North")) }), Ct));
        var vip = await Segments(s => s.CreateAsync(new SegmentDraft(Unique("VIP"), shop.CustomerData.Id,
            new RuleTree { Root = All(Field("vip", RuleOperator.IsTrue)) }), Ct));
        var buyers = await Segments(s => s.CreateAsync(new SegmentDraft(Unique("Buyers"), shop.CustomerData.Id,
            new RuleTree { Root = All(Fact(CustomerFact.OrderCount, RuleOperator.GreaterOrEqual, "1")) }), Ct));

        var two = await Segments(s => s.CompareAsync([north, vip], Ct));
        var three = await Segments(s => s.CompareAsync([north, vip, buyers], Ct));

        Assert.Equal([2L, 3], two.Sizes);
        Assert.Equal(1, two.Regions["AB"]);
        Assert.Equal(1, two.Regions["A"]);
        Assert.Equal(2, two.Regions["B"]);
        Assert.Equal([2L, 3, 4], three.Sizes);
        Assert.Equal(1, three.Regions["ABC"]); // Ann: North, VIP, ordered
        await Assert.ThrowsAsync<PortalException>(() => Segments(s => s.CompareAsync([north], Ct)));
    }

    [Fact]
    public async Task Duplicate_and_delete_and_the_guard_on_segments_in_use()
    {
        var name = Unique("Base");
        var id = await Segments(s => s.CreateAsync(new SegmentDraft(name, shop.CustomerData.Id, new RuleTree { Root = All(Field("vip", RuleOperator.IsTrue)) }), Ct));
        var copy = await Segments(s => s.DuplicateAsync(id, Ct));
        var user = await Segments(s => s.CreateAsync(new SegmentDraft(Unique("Uses base"), shop.CustomerData.Id,
            new RuleTree { Root = All(new SegmentCondition { SegmentId = id, In = false }) }), Ct));

        var list = await Segments(s => s.ListAsync(Ct));
        Assert.Equal($"Copy of {name}", list.Single(r => r.Id == copy).Name);
        Assert.Equal(3, list.Single(r => r.Id == user).Size);
        var error = await Assert.ThrowsAsync<PortalException>(() => Segments(s => s.DeleteAsync(id, Ct)));
        Assert.Contains("is used by", error.Message);

        await Segments(s => s.DeleteAsync(user, Ct));
        await Segments(s => s.DeleteAsync(id, Ct));
        Assert.DoesNotContain(await Segments(s => s.ListAsync(Ct)), r => r.Id == id);
    }

    [Theory]
    [InlineData("", "Give the segment a name.")]
    [InlineData("   ", "Give the segment a name.")]
    public async Task Bad_names_are_refused(string name, string message)
    {
        var error = await Assert.ThrowsAsync<PortalException>(() =>
            Segments(s => s.CreateAsync(new SegmentDraft(name, shop.CustomerData.Id, new RuleTree()), Ct)));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task Names_are_unique_and_a_looping_rule_is_not_saved()
    {
        var name = Unique("Same");
        var id = await Segments(s => s.CreateAsync(new SegmentDraft(name, shop.CustomerData.Id, new RuleTree()), Ct));
        var duplicate = await Assert.ThrowsAsync<PortalException>(() =>
            Segments(s => s.CreateAsync(new SegmentDraft(name, shop.CustomerData.Id, new RuleTree()), Ct)));
        Assert.Equal($"You already have a segment called “{name}”.", duplicate.Message);

        var loop = await Assert.ThrowsAsync<PortalException>(() => Segments(s => s.UpdateAsync(id,
            new SegmentDraft(name, shop.CustomerData.Id, new RuleTree { Root = All(new SegmentCondition { SegmentId = id }) }), Ct)));
        Assert.Contains("loop", loop.Message);
        var (_, rule, _) = await Segments(s => s.GetAsync(id, Ct));
        Assert.Empty(rule.Root.Children);
    }

    [Fact]
    public async Task Only_the_owner_or_an_admin_changes_a_segment_and_viewers_create_none()
    {
        var id = await Segments(s => s.CreateAsync(new SegmentDraft(Unique("Mine"), shop.CustomerData.Id, new RuleTree()), Ct));
        var owner = shop.Harness.CurrentUser.Principal;
        try
        {
            await shop.Harness.SignInAsNewUserAsync($"other-{Guid.NewGuid():N}@example.com", Roles.Analyst);
            await Assert.ThrowsAnyAsync<PortalException>(() => Segments(s => s.DeleteAsync(id, Ct)));
            await shop.Harness.SignInAsNewUserAsync($"viewer-{Guid.NewGuid():N}@example.com", Roles.Viewer);
            await Assert.ThrowsAsync<PermissionDeniedException>(() =>
                Segments(s => s.CreateAsync(new SegmentDraft(Unique("Nope"), shop.CustomerData.Id, new RuleTree()), Ct)));
        }
        finally
        {
            shop.Harness.CurrentUser.Principal = owner;
        }
    }

    [Fact]
    public async Task Member_pages_sort_and_page()
    {
        var page = await Segments(s => s.MembersAsync(shop.CustomerData.Id, All(Field("vip", RuleOperator.IsNotEmpty)), "name", descending: true, page: 1, pageSize: 2, Ct));

        Assert.Equal(5, page.Total);
        Assert.Equal(["Cy", "Bo"], page.Rows.Select(r => (string)r[page.Columns.ToList().IndexOf("name")]!));
    }
}
