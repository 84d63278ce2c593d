using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Web.Components.Data;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Data;

/// <summary>The dataset page's Sharing tab over the real sharing service and a temp metadata store.</summary>
public sealed class DatasetSharingPanelTests : PortalTestContext, IAsyncLifetime
{
    private const string Owner = "analyst@example.com";
    private PortalStore _store = null!;
    private int _datasetId;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        Services.AddSingleton(_store.Db);
        Services.AddSingleton(_store.Changes);
        Services.AddPortalAccess();
        Services.AddScoped<DatasetSharing>();
        await using var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken);
        db.Users.AddRange(
            new AppUser { Id = $"id-{Owner}", UserName = Owner, Email = Owner },
            new AppUser { Id = "id-manager", UserName = "manager@example.com", Email = "manager@example.com" },
            new AppUser { Id = "id-gone", UserName = "gone@example.com", Email = "gone@example.com", IsDisabled = true });
        var dataset = new Dataset
        {
            Name = "Customers", TableName = "t_customers", Kind = DatasetKind.Customers, Source = "Test", OwnerId = $"id-{Owner}",
            CreatedAt = Clock.Now, RefreshedAt = Clock.Now,
        };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        _datasetId = dataset.Id;
    }

    [Fact]
    public async Task The_owner_shares_with_a_role_and_a_person_and_removes_them_again()
    {
        SignInAs(Owner, Roles.Analyst);
        var popovers = Render<MudPopoverProvider>();
        var cut = Render<DatasetSharingPanel>(p => p.Add(x => x.DatasetId, _datasetId));
        cut.WaitForAssertion(() => Assert.Contains("No one individually", cut.Find("[data-testid=share-users]").TextContent));
        Assert.True(cut.Find("[data-testid=share-save]").HasAttribute("disabled"));

        await cut.Find("input[data-testid=share-role-Viewer], [data-testid=share-role-Viewer] input").ChangeAsync(new() { Value = true });
        var search = cut.Find("[data-testid=share-user-search] input, input[data-testid=share-user-search]");
        await search.InputAsync(new() { Value = "man" });
        popovers.WaitForAssertion(() => Assert.Contains("manager@example.com", popovers.Markup));
        Assert.DoesNotContain("gone@example.com", popovers.Markup);
        Assert.DoesNotContain(Owner, popovers.Markup);
        await popovers.FindAll(".mud-list-item").Single(i => i.TextContent.Contains("manager@example.com")).ClickAsync(new());
        cut.WaitForAssertion(() => Assert.Contains("manager@example.com", cut.Find("[data-testid=share-users]").TextContent));
        await cut.Find("[data-testid=share-save]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("Sharing saved.", SnackbarMessages));
        await using (var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken))
        {
            var grants = await db.DatasetGrants.Where(g => g.DatasetId == _datasetId).ToListAsync(Xunit.TestContext.Current.CancellationToken);
            Assert.Equal(["Viewer"], grants.Where(g => g.Role != null).Select(g => g.Role));
            Assert.Equal(["id-manager"], grants.Where(g => g.UserId != null).Select(g => g.UserId));
        }

        await cut.Find("[data-testid=share-users] .mud-chip-close-button").ClickAsync(new());
        await cut.Find("input[data-testid=share-role-Viewer], [data-testid=share-role-Viewer] input").ChangeAsync(new() { Value = false });
        await cut.Find("[data-testid=share-save]").ClickAsync(new());
        cut.WaitForAssertion(async () =>
        {
            await using var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken);
            Assert.False(await db.DatasetGrants.AnyAsync(g => g.DatasetId == _datasetId, Xunit.TestContext.Current.CancellationToken));
        });
    }

    [Fact]
    public async Task Someone_it_is_shared_with_sees_who_else_has_it_but_cannot_change_it()
    {
        SignInAs(Owner, Roles.Analyst);
        await Services.GetRequiredService<DatasetSharing>().SetAsync(_datasetId, [Roles.Viewer], ["id-manager"], Xunit.TestContext.Current.CancellationToken);
        SignInAs("manager@example.com", Roles.Viewer);

        var cut = Render<DatasetSharingPanel>(p => p.Add(x => x.DatasetId, _datasetId));

        cut.WaitForAssertion(() => Assert.Contains("everyone with the Viewer role, manager@example.com", cut.Find("[data-testid=sharing-summary]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=share-save]"));
    }
}
