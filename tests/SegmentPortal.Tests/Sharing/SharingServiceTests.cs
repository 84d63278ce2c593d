using SegmentPortal.Core.Access;
using SegmentPortal.Core;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Sharing;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Sharing;

/// <summary>Who may see and change dashboards, segments and folders, over the real metadata store.</summary>
public sealed class SharingServiceTests(SharingFixture f) : IClassFixture<SharingFixture>
{
    private Task<DashboardView> Open(System.Security.Claims.ClaimsPrincipal user, int id) => f.With<DashboardService, DashboardView>(user, s => s.GetAsync(id));

    private Task<IReadOnlyList<DashboardSummary>> List(System.Security.Claims.ClaimsPrincipal user) => f.With<DashboardService, IReadOnlyList<DashboardSummary>>(user, s => s.ListAsync());

    private Task Share(SharedItem item, int id, string? userId, string? role, ShareLevel level, System.Security.Claims.ClaimsPrincipal? by = null) =>
        f.With<SharingService>(by ?? f.Owner, s => s.ShareAsync(item, id, userId, role, level));

    [Fact]
    public async Task A_dashboard_is_private_to_its_owner_and_Admins_until_shared()
    {
        var id = await f.DashboardAsync();
        var other = await f.PersonAsync("other", Roles.Analyst);
        var admin = await f.PersonAsync("admin", Roles.Admin);

        Assert.DoesNotContain(await List(other), d => d.Id == id);
        var refused = await Assert.ThrowsAsync<PortalException>(() => Open(other, id));
        Assert.Contains("does not exist or you do not have access", refused.Message);
        Assert.True((await Open(admin, id)).CanEdit);
        var mine = Assert.Single(await List(f.Owner), d => d.Id == id);
        Assert.True(mine.CanEdit && mine.CanShare && !mine.SharedWithMe);
    }

    [Fact]
    public async Task A_Viewer_share_lets_a_person_see_but_not_change_and_removal_applies_to_the_next_call()
    {
        var id = await f.DashboardAsync();
        var manager = await f.PersonAsync("manager", Roles.Analyst);

        await Share(SharedItem.Dashboard, id, manager.UserId(), null, ShareLevel.Viewer);

        var row = Assert.Single(await List(manager), d => d.Id == id);
        Assert.True(row.SharedWithMe);
        Assert.False(row.CanEdit);
        var view = await Open(manager, id);
        Assert.False(view.CanEdit);
        Assert.False(view.CanShare);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<DashboardService>(manager, s => s.SetAutoRefreshAsync(id, 5)));

        var share = (await f.With<SharingService, ShareList>(f.Owner, s => s.ListAsync(SharedItem.Dashboard, id))).Entries.Single(e => e.UserId == manager.UserId());
        await f.With<SharingService>(f.Owner, s => s.UnshareAsync(share.ShareId!.Value));

        await Assert.ThrowsAsync<PortalException>(() => Open(manager, id));
        Assert.DoesNotContain(await List(manager), d => d.Id == id);
    }

    [Fact]
    public async Task A_role_share_as_Editor_lets_Analysts_change_the_board_but_people_with_the_Viewer_role_only_view()
    {
        var id = await f.DashboardAsync();
        var analyst = await f.PersonAsync("analyst", Roles.Analyst);
        var viewer = await f.PersonAsync("viewer", Roles.Viewer);
        var stranger = await f.PersonAsync("stranger", Roles.Viewer);

        await Share(SharedItem.Dashboard, id, null, Roles.Analyst, ShareLevel.Editor);
        await Share(SharedItem.Dashboard, id, viewer.UserId(), null, ShareLevel.Editor);

        var changed = await f.With<DashboardService, DashboardView>(analyst, s => s.SetAutoRefreshAsync(id, 15));
        Assert.Equal(15, changed.AutoRefreshMinutes);
        Assert.True(changed.CanEdit);
        Assert.False(changed.CanShare);
        Assert.False((await Open(viewer, id)).CanEdit);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<DashboardService>(viewer, s => s.SetAutoRefreshAsync(id, 5)));
        await Assert.ThrowsAsync<PortalException>(() => Open(stranger, id));
    }

    [Fact]
    public async Task A_folder_share_carries_to_its_dashboards_and_the_higher_level_wins()
    {
        var id = await f.DashboardAsync();
        var other = await f.DashboardAsync("Other");
        var person = await f.PersonAsync("person", Roles.Analyst);
        var folder = await f.With<DashboardFolders, int>(f.Owner, s => s.CreateFolderAsync($"Sales {Guid.NewGuid():N}"));
        await f.With<DashboardFolders>(f.Owner, s => s.MoveAsync(id, folder));
        await f.With<DashboardFolders>(f.Owner, s => s.MoveAsync(other, folder));

        await Share(SharedItem.Folder, folder, person.UserId(), null, ShareLevel.Viewer);
        await Share(SharedItem.Dashboard, id, person.UserId(), null, ShareLevel.Editor);

        Assert.True((await Open(person, id)).CanEdit); // direct Editor beats folder Viewer
        Assert.False((await Open(person, other)).CanEdit); // folder Viewer only
        Assert.Contains(await List(person), d => d.Id == other && d.SharedWithMe && d.FolderId == folder);
        var list = await f.With<SharingService, ShareList>(f.Owner, s => s.ListAsync(SharedItem.Dashboard, other));
        Assert.Contains(list.Entries, e => e.UserId == person.UserId() && e.InheritedFrom != null && e.Level == ShareLevel.Viewer);
        Assert.Contains(list.Entries, e => e.IsOwner && e.UserId == f.Owner.UserId());

        await Share(SharedItem.Folder, folder, person.UserId(), null, ShareLevel.Editor);
        Assert.True((await Open(person, other)).CanEdit); // folder Editor beats no direct share

        await f.With<DashboardFolders>(f.Owner, s => s.DeleteFolderAsync(folder));
        await Assert.ThrowsAsync<PortalException>(() => Open(person, other)); // the folder's share went with it
        Assert.Null((await Open(f.Owner, other)).FolderId);
        Assert.True((await Open(person, id)).CanEdit); // the direct share stays
    }

    [Fact]
    public async Task Only_the_owner_or_an_Admin_can_change_sharing()
    {
        var id = await f.DashboardAsync();
        var editor = await f.PersonAsync("editor", Roles.Analyst);
        var viewer = await f.PersonAsync("viewer", Roles.Viewer);
        var admin = await f.PersonAsync("admin", Roles.Admin);
        await Share(SharedItem.Dashboard, id, editor.UserId(), null, ShareLevel.Editor);
        await Share(SharedItem.Dashboard, id, viewer.UserId(), null, ShareLevel.Viewer);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => Share(SharedItem.Dashboard, id, null, Roles.Viewer, ShareLevel.Viewer, by: editor));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Share(SharedItem.Dashboard, id, viewer.UserId(), null, ShareLevel.Editor, by: viewer));
        var share = (await f.With<SharingService, ShareList>(editor, s => s.ListAsync(SharedItem.Dashboard, id))).Entries.Single(e => e.UserId == viewer.UserId());
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<SharingService>(editor, s => s.UnshareAsync(share.ShareId!.Value)));
        Assert.False((await f.With<SharingService, ShareList>(editor, s => s.ListAsync(SharedItem.Dashboard, id))).CanShare);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<DashboardService>(editor, s => s.DeleteAsync(id)));

        await Share(SharedItem.Dashboard, id, null, Roles.Viewer, ShareLevel.Viewer, by: admin);
        Assert.Contains((await f.With<SharingService, ShareList>(f.Owner, s => s.ListAsync(SharedItem.Dashboard, id))).Entries, e => e.Role == Roles.Viewer);
    }

    [Fact]
    public async Task Segments_are_private_until_shared_and_an_unshared_segment_is_missing_from_other_peoples_rules()
    {
        var other = await f.PersonAsync("other", Roles.Analyst);
        // The other person may read the customers, so only the segment's sharing stands in the way.
        await f.With<DatasetSharing>(f.Owner, s => s.SetAsync(f.Shop.CustomerData.Id, [], [other.UserId()!]));
        f.As(f.Owner);
        var north = await f.Shop.SaveSegmentAsync($"North {Guid.NewGuid():N}", All(FieldIn("region", RuleOperator.In, "North")));
        var condition = new SegmentCondition { SegmentId = north };
        var inNorth = All(condition);

        Assert.DoesNotContain(await f.With<SegmentService, IReadOnlyList<SegmentRow>>(other, s => s.ListAsync()), r => r.Id == north);
        await Assert.ThrowsAsync<PortalException>(() => f.With<SegmentService, (Segment, RuleTree, bool)>(other, s => s.GetAsync(north)));
        var unseen = await f.With<SegmentService, LiveCount>(other, s => s.CountAsync(f.Shop.CustomerData.Id, inNorth));
        Assert.Equal("That segment no longer exists.", Assert.Single(unseen.Problems, p => p.NodeId == condition.Id).Message);
        // Like a deleted segment, it is left out of the rule: nothing of its members reaches the other person.
        var run = await f.With<QueryService, QueryResult>(other, s => s.RunAsync(new QuerySpec
        {
            DatasetId = f.Shop.CustomerData.Id,
            Filter = inNorth,
            Measures = [new Measure(MeasureKind.Customers, "n")],
        }));
        Assert.Equal(6L, Convert.ToInt64(run.Scalar("n"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, (await f.With<SegmentService, LiveCount>(f.Owner, s => s.CountAsync(f.Shop.CustomerData.Id, inNorth))).Matching);

        await Share(SharedItem.Segment, north, other.UserId(), null, ShareLevel.Viewer);

        var row = Assert.Single(await f.With<SegmentService, IReadOnlyList<SegmentRow>>(other, s => s.ListAsync()), r => r.Id == north);
        Assert.False(row.CanEdit);
        Assert.True(row.SharedWithMe);
        Assert.Equal(2, (await f.With<SegmentService, LiveCount>(other, s => s.CountAsync(f.Shop.CustomerData.Id, inNorth))).Matching);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<SegmentService>(other, s => s.DeleteAsync(north)));
    }

    [Fact]
    public async Task Sharing_changes_are_audited()
    {
        var id = await f.DashboardAsync();
        var person = await f.PersonAsync("audited", Roles.Analyst);
        var before = (await f.AuditAsync(AuditActions.SharingChanged)).Count;

        await Share(SharedItem.Dashboard, id, person.UserId(), null, ShareLevel.Viewer);
        var share = (await f.With<SharingService, ShareList>(f.Owner, s => s.ListAsync(SharedItem.Dashboard, id))).Entries.Single(e => e.UserId == person.UserId());
        await f.With<SharingService>(f.Owner, s => s.ChangeLevelAsync(share.ShareId!.Value, ShareLevel.Editor));
        await f.With<SharingService>(f.Owner, s => s.UnshareAsync(share.ShareId!.Value));

        var entries = (await f.AuditAsync(AuditActions.SharingChanged)).Skip(before).ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal(f.Owner.UserId(), e.UserId));
        Assert.All(entries, e => Assert.Contains($"Dashboard {id} ", e.Subject));
        Assert.Contains(person.Identity!.Name!, entries[0].Detail);
        Assert.Contains("Viewer", entries[0].Detail);
        Assert.Contains("Editor", entries[1].Detail);
        Assert.Contains("no longer has access", entries[2].Detail);
    }

    [Fact]
    public async Task Viewers_may_not_export_when_the_board_forbids_it_and_exports_are_audited()
    {
        var id = await f.DashboardAsync();
        var viewer = await f.PersonAsync("exporter", Roles.Viewer);
        await Share(SharedItem.Dashboard, id, viewer.UserId(), null, ShareLevel.Viewer);

        Assert.True((await Open(viewer, id)).CanExport);
        await f.With<SharingService>(viewer, s => s.RecordExportAsync(id, "Customers by region", "CSV", 4));
        var exported = (await f.AuditAsync(AuditActions.Export)).Last();
        Assert.Equal(viewer.UserId(), exported.UserId);
        Assert.Equal(4, exported.Rows);
        Assert.Equal("CSV", exported.Detail);
        Assert.Contains("Customers by region", exported.Subject);

        await f.With<DashboardService, DashboardView>(f.Owner, s => s.SetViewersMayExportAsync(id, false));

        Assert.False((await Open(viewer, id)).CanExport);
        var count = (await f.AuditAsync(AuditActions.Export)).Count;
        await Assert.ThrowsAsync<PermissionDeniedException>(() => f.With<SharingService>(viewer, s => s.RecordExportAsync(id, null, "PDF", null)));
        Assert.Equal(count, (await f.AuditAsync(AuditActions.Export)).Count);
        Assert.True((await Open(f.Owner, id)).CanExport);
        await f.With<SharingService>(f.Owner, s => s.RecordExportAsync(id, null, "PDF", null));
    }

    [Fact]
    public async Task The_share_list_warns_who_cannot_read_the_boards_datasets()
    {
        var id = await f.DashboardAsync();
        var viewer = await f.PersonAsync("nodata", Roles.Viewer);
        await Share(SharedItem.Dashboard, id, viewer.UserId(), null, ShareLevel.Viewer);

        var list = await f.With<SharingService, ShareList>(f.Owner, s => s.ListAsync(SharedItem.Dashboard, id));
        var gap = Assert.Single(list.Gaps);
        Assert.Equal(f.Shop.CustomerData.Id, gap.DatasetId);
        Assert.Equal([viewer.Identity!.Name!], gap.Lacking);
        // Sharing the board did not share the data: the Viewer's tile reads are refused.
        await Assert.ThrowsAsync<PortalException>(() => f.With<Authorizer, Dataset>(viewer, s => s.RequireReadableAsync(f.Shop.CustomerData.Id)));

        await f.With<DatasetSharing>(f.Owner, s => s.SetAsync(f.Shop.CustomerData.Id, [Roles.Viewer], []));
        Assert.Empty((await f.With<SharingService, ShareList>(f.Owner, s => s.ListAsync(SharedItem.Dashboard, id))).Gaps);
        await f.With<DatasetSharing>(f.Owner, s => s.SetAsync(f.Shop.CustomerData.Id, [], []));
    }
}
