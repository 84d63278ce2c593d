using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Extensions;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Exports;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core.Users;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Web.Components.Admin;
using SegmentPortal.Web.Infrastructure;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Admin;

/// <summary>The data-permission pieces and the audit page over the real services and a real (temp) metadata store.</summary>
public sealed class PermissionComponentsTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        Services.AddSingleton(_store.Db);
        Services.AddScoped<AuditLog>();
        Services.AddScoped<AuditExport>();
        Services.AddScoped<PortalSettings>();
        Services.AddSingleton(_store.Changes);
        Services.AddSingleton<AccessCache>();
        Services.AddScoped<DataPermissionService>();
        Services.AddScoped<BrowserFiles>();
        Services.AddPortalAccess();
        Services.AddSingleton<IRowRuleCheck, SegmentPortal.Core.Queries.RowRuleCheck>();
        Services.AddScoped<DatasetSharing>();
        Services.AddScoped<ViewAsState>();
        Services.AddScoped<ViewAsService>();
        Services.AddScoped<SegmentPortal.Core.Segments.RuleBuilderService>();
        SignInAs("admin@example.com", Roles.Admin);
    }

    private async Task<int> AddDatasetAsync()
    {
        await using var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken);
        var dataset = new Dataset
        {
            Name = "orders",
            TableName = "t_orders",
            Source = "Test",
            Status = DatasetStatus.Ready,
            Columns =
            {
                new DatasetColumn { Name = "email", Ordinal = 0, Type = ColumnType.Text, ImportType = ColumnType.Text, WarehouseType = "VARCHAR" },
                new DatasetColumn { Name = "region", Ordinal = 1, Type = ColumnType.Text, ImportType = ColumnType.Text, WarehouseType = "VARCHAR" },
            },
        };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        return dataset.Id;
    }

    [Fact]
    public async Task The_permissions_page_shows_a_datasets_grants_and_explains_fail_closed_rows()
    {
        var id = await AddDatasetAsync();
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo($"/admin/permissions?dataset={id}");

        var cut = Render<PermissionsPage>();

        cut.WaitForAssertion(() => Assert.Contains("The owner and Admins always have access", cut.Markup));
        Assert.Contains("Row rules", cut.Find("[data-testid=permissions-tabs]").TextContent);
        Assert.Contains("Columns", cut.Find("[data-testid=permissions-tabs]").TextContent);
        Assert.Contains("Admins see all rows and columns", cut.Markup);
        var rowRulesTab = cut.FindAll(".mud-tab").Single(t => t.TextContent.Contains("Row rules"));
        rowRulesTab.Click();
        cut.WaitForAssertion(() => Assert.Contains("A dataset with row rules shows no rows to people no rule covers.", cut.Find("[data-testid=fail-closed-note]").TextContent));
        Assert.NotNull(cut.Find("[data-testid=no-row-rules]"));
    }

    [Fact]
    public async Task The_banner_shows_whom_an_admin_views_as_and_stop_ends_it()
    {
        await using (var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken))
        {
            db.Users.Add(new AppUser { Id = "u1", UserName = "vic@example.com", Email = "vic@example.com", DisplayName = "Vic" });
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        }
        var cut = Render<SegmentPortal.Web.Components.Layout.ViewAsBanner>();
        Assert.Empty(cut.FindAll("[data-testid=view-as-banner]"));

        await cut.InvokeAsync(() => Services.GetRequiredService<ViewAsService>().StartAsync("u1"));

        cut.WaitForAssertion(() => Assert.Contains("Viewing as Vic (vic@example.com)", cut.Find("[data-testid=view-as-banner]").TextContent));
        cut.Find("[data-testid=view-as-stop]").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=view-as-banner]")));
        Assert.False(Services.GetRequiredService<ViewAsState>().IsActive);
    }

    [Fact]
    public async Task The_column_grid_changes_a_treatment()
    {
        var id = await AddDatasetAsync();
        var permissions = await Services.GetRequiredService<DataPermissionService>().GetAsync(id, Xunit.TestContext.Current.CancellationToken);
        var changed = 0;

        var cut = Render<ColumnRulesGrid>(p => p.Add(g => g.Dataset, permissions).Add(g => g.Changed, () => changed++));
        var select = cut.FindComponents<MudSelect<ColumnTreatment>>()
            .Single(s => s.Instance.UserAttributes?.GetValueOrDefault("data-testid") as string == "treatment-email-Viewer");
        Assert.Equal(ColumnTreatment.Visible, select.Instance.GetState(x => x.Value));
        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(ColumnTreatment.Masked));

        cut.WaitForAssertion(() => Assert.Equal(1, changed));
        await using var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken);
        var rule = await db.ColumnRules.SingleAsync(Xunit.TestContext.Current.CancellationToken);
        Assert.Equal(("email", Roles.Viewer, ColumnTreatment.Masked), (rule.Column, rule.Role, rule.Treatment));
        Assert.Contains("email is masked for Viewer.", SnackbarMessages);
        Assert.Contains("j***@example.com", cut.Markup);
    }

    [Fact]
    public async Task The_attributes_dialog_saves()
    {
        await using (var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken))
        {
            db.Users.Add(new AppUser { Id = "u1", UserName = "vic@example.com", Email = "vic@example.com", DisplayName = "Vic" });
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        }
        var user = new UserRow("u1", "vic@example.com", "Vic", [Roles.Viewer], false, false, DateTimeOffset.UnixEpoch, null);
        var dialogs = Render<MudDialogProvider>();

        await dialogs.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<UserAttributesDialog>(
            "Attributes", new DialogParameters<UserAttributesDialog> { { d => d.User, user } }));
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=add-attribute]"));
        dialogs.Find("[data-testid=add-attribute]").Click();
        dialogs.Find("[data-testid=attribute-name]").Input("Region");
        dialogs.Find("[data-testid=attribute-value]").Input("North");
        dialogs.Find("[data-testid=attributes-save]").Click();

        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=attributes-save]")));
        var stored = await Services.GetRequiredService<DataPermissionService>().GetAttributesAsync("u1", Xunit.TestContext.Current.CancellationToken);
        Assert.Equal("North", stored["Region"]);
        Assert.Contains("Attributes of vic@example.com saved.", SnackbarMessages);
    }

    [Fact]
    public async Task The_attributes_dialog_keeps_a_bad_name_open_with_the_reason()
    {
        await using (var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken))
        {
            db.Users.Add(new AppUser { Id = "u1", UserName = "vic@example.com", Email = "vic@example.com", DisplayName = "Vic" });
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        }
        var user = new UserRow("u1", "vic@example.com", "Vic", [Roles.Viewer], false, false, DateTimeOffset.UnixEpoch, null);
        var dialogs = Render<MudDialogProvider>();

        await dialogs.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<UserAttributesDialog>(
            "Attributes", new DialogParameters<UserAttributesDialog> { { d => d.User, user } }));
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=add-attribute]"));
        dialogs.Find("[data-testid=add-attribute]").Click();
        dialogs.Find("[data-testid=attribute-name]").Input("Email");
        dialogs.Find("[data-testid=attribute-value]").Input("x@example.com");
        dialogs.Find("[data-testid=attributes-save]").Click();

        dialogs.WaitForAssertion(() => Assert.Contains(SnackbarMessages, m => m.Contains("built in", StringComparison.Ordinal)));
        Assert.NotEmpty(dialogs.FindAll("[data-testid=attributes-save]"));
    }

    [Fact]
    public async Task The_audit_page_filters_by_user()
    {
        var audit = Services.GetRequiredService<AuditLog>();
        await audit.RecordForAsync(null, "ann@example.com", AuditActions.SignIn, null, cancellationToken: Xunit.TestContext.Current.CancellationToken);
        await audit.RecordForAsync(null, "bo@example.com", AuditActions.SignInFailed, null, "Wrong password", cancellationToken: Xunit.TestContext.Current.CancellationToken);

        var cut = Render<AuditPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=audit-entry]").Count));

        cut.Find("[data-testid=audit-user]").Change("bo@");
        cut.Find("[data-testid=audit-search]").Click();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=audit-entry]")));
        Assert.Contains("Wrong password", cut.Find("[data-testid=audit-entry]").TextContent);
        Assert.Contains("1 entries", cut.Find("[data-testid=audit-total]").TextContent);

        cut.Find("[data-testid=audit-user]").Change("nobody");
        cut.Find("[data-testid=audit-search]").Click();
        cut.WaitForAssertion(() => Assert.Contains("No entry matches these filters.", cut.Markup));
    }

    [Fact]
    public async Task A_viewer_gets_the_services_refusal_not_the_log()
    {
        await Services.GetRequiredService<AuditLog>().RecordForAsync(null, "ann@example.com", AuditActions.SignIn, null,
            cancellationToken: Xunit.TestContext.Current.CancellationToken);
        SignInAs("vic@example.com", Roles.Viewer);

        var cut = Render<AuditPage>();

        cut.WaitForAssertion(() => Assert.Contains("You do not have permission to do that.", SnackbarMessages));
        Assert.Empty(cut.FindAll("[data-testid=audit-entry]"));
    }
}
