using SegmentPortal.Core;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;

namespace SegmentPortal.Tests.Access.Holes;

/// <summary>
/// Issue 12: the "name already in use" check must not let one user confirm the name of another user's private board,
/// segment or folder. Names are unique per owner, so another user's item never blocks (or names itself in) a save.
/// </summary>
public sealed class NameHoleTests(PermissionFixture f) : IClassFixture<PermissionFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}";

    private SegmentDraft Draft(string name) => new(name, f.Customers.Id,
        new RuleTree { Root = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.IsNotEmpty }] } });

    [Fact]
    public async Task N1_another_users_private_dashboard_name_cannot_be_confirmed_by_creating_or_renaming_a_board()
    {
        var secret = Unique("Layoffs 2025");
        f.AsOwner();
        var owners = await f.With<DashboardService, int>(s => s.CreateAsync(secret, cancellationToken: Ct));

        f.AsRulelessAnalyst();
        var created = await f.With<DashboardService, int>(s => s.CreateAsync(secret, cancellationToken: Ct));
        var other = await f.With<DashboardService, int>(s => s.CreateAsync(Unique("Mine"), cancellationToken: Ct));
        var renamed = await f.With<DashboardService, DashboardView>(s => s.DescribeAsync(other, secret + " 2", null, Ct));

        Assert.NotEqual(owners, created);
        Assert.Equal(secret + " 2", renamed.Name);
        // The owner's own names stay unique, and the message speaks only of the owner's own boards.
        f.AsOwner();
        var again = await Assert.ThrowsAsync<PortalException>(() => f.With<DashboardService, int>(s => s.CreateAsync(secret, cancellationToken: Ct)));
        Assert.Equal($"You already have a dashboard called “{secret}”.", again.Message);
    }

    [Fact]
    public async Task N2_another_users_private_segment_name_cannot_be_confirmed_by_creating_renaming_or_duplicating_a_segment()
    {
        var secret = Unique("Churn risk VIPs");
        f.AsOwner();
        var owners = await f.With<SegmentService, int>(s => s.CreateAsync(Draft(secret), Ct));
        await f.With<SegmentService, int>(s => s.CreateAsync(Draft("Copy of " + secret), Ct));

        f.AsRulelessAnalyst();
        var created = await f.With<SegmentService, int>(s => s.CreateAsync(Draft(secret), Ct));
        var other = await f.With<SegmentService, int>(s => s.CreateAsync(Draft(Unique("Mine")), Ct));
        await f.With<SegmentService>(s => s.UpdateAsync(other, Draft(secret + " 2"), Ct));
        var copy = await f.With<SegmentService, int>(s => s.DuplicateAsync(created, Ct));

        Assert.NotEqual(owners, created);
        Assert.Equal(secret + " 2", (await f.With<SegmentService, (Segment Segment, RuleTree Rule, bool CanEdit)>(s => s.GetAsync(other, Ct))).Segment.Name);
        // The owner's "Copy of …" is not theirs to see: the copy is named as if it did not exist.
        Assert.Equal("Copy of " + secret, (await f.With<SegmentService, (Segment Segment, RuleTree Rule, bool CanEdit)>(s => s.GetAsync(copy, Ct))).Segment.Name);
        f.AsOwner();
        var again = await Assert.ThrowsAsync<PortalException>(() => f.With<SegmentService, int>(s => s.CreateAsync(Draft(secret), Ct)));
        Assert.Equal($"You already have a segment called “{secret}”.", again.Message);
    }

    [Fact]
    public async Task N3_another_users_folder_name_does_not_block_a_folder_of_the_same_name()
    {
        var secret = Unique("Board pack");
        f.AsOwner();
        var owners = await f.With<DashboardFolders, int>(s => s.CreateFolderAsync(secret, Ct));

        f.AsRulelessAnalyst();
        var created = await f.With<DashboardFolders, int>(s => s.CreateFolderAsync(secret, Ct));

        Assert.NotEqual(owners, created);
    }
}
