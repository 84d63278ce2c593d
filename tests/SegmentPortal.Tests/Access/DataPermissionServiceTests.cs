using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Sharing;
using SegmentPortal.Core;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Rules;
using SegmentPortal.Tests.Infrastructure;
using SegmentPortal.Tests.Queries;
using static SegmentPortal.Tests.Queries.ShopFixture;

namespace SegmentPortal.Tests.Access;

/// <summary>The shop data (six customers; 1 and 4 in North, 2 in South) with an Admin and a Viewer in region North.</summary>
public sealed class DataPermissionServiceTests : IAsyncLifetime
{
    private readonly ShopFixture _shop = new();
    private AppUser _admin = null!;
    private AppUser _viewer = null!;

    private CoreHarness Harness => _shop.Harness;

    public async ValueTask InitializeAsync()
    {
        await _shop.InitializeAsync();
        _viewer = await Harness.CreateUserAsync("viewer@example.com", "Correct-horse-9", Roles.Viewer);
        _admin = await Harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
        await Harness.WithAsync<DatasetSharing>(s => s.SetAsync(_shop.CustomerData.Id, [Roles.Viewer], []));
    }

    public ValueTask DisposeAsync() => _shop.DisposeAsync();

    private Task<T> Service<T>(Func<DataPermissionService, Task<T>> action) => Harness.WithAsync(action);

    private Task Service(Func<DataPermissionService, Task> action) => Harness.WithAsync(action);

    private static RuleGroup RegionIs(string value) => All(Field("region", RuleOperator.Equals, value));

    private void AsAdmin() => Harness.CurrentUser.Principal = CoreHarness.Principal(_admin.Id, _admin.Email!, Roles.Admin);

    private void AsViewer() => Harness.CurrentUser.Principal = CoreHarness.Principal(_viewer.Id, _viewer.Email!, Roles.Viewer);

    [Theory]
    [InlineData(Roles.Analyst)]
    [InlineData(Roles.Viewer)]
    public async Task Non_admins_are_refused_every_read_and_change(string role)
    {
        Harness.CurrentUser.Principal = CoreHarness.Principal(_viewer.Id, _viewer.Email!, role);
        var id = _shop.CustomerData.Id;

        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.GetAsync(id)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.SaveRowRuleAsync(id, null, Roles.Viewer, null, RegionIs("North"))));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.SetColumnTreatmentAsync(id, "name", Roles.Viewer, ColumnTreatment.Hidden)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.SetAttributesAsync(_viewer.Id, new Dictionary<string, string> { ["Region"] = "South" })));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.SetAdminsSeeAllDataAsync(false)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.GetAttributesAsync(_viewer.Id)));
        AsAdmin();
        Assert.Empty((await Service(s => s.GetAsync(id))).RowRules);
        Assert.Empty((await Service(s => s.GetAttributesAsync(_viewer.Id))));
    }

    [Fact]
    public async Task A_rule_on_a_column_the_dataset_does_not_have_is_refused()
    {
        var error = await Assert.ThrowsAsync<PortalException>(() =>
            Service(s => s.SaveRowRuleAsync(_shop.CustomerData.Id, null, Roles.Viewer, null, All(Field("country", RuleOperator.Equals, "NO")))));

        Assert.Contains("no column \"country\"", error.Message);
        Assert.Empty((await Service(s => s.GetAsync(_shop.CustomerData.Id))).RowRules);
    }

    [Fact]
    public async Task Incomplete_conditions_order_facts_and_rules_for_no_one_are_refused_with_clear_messages()
    {
        var id = _shop.CustomerData.Id;
        var incomplete = await Assert.ThrowsAsync<PortalException>(() => Service(s => s.SaveRowRuleAsync(id, null, Roles.Viewer, null, All(Field("region", RuleOperator.Equals)))));
        var badNumber = await Assert.ThrowsAsync<PortalException>(() => Service(s => s.SaveRowRuleAsync(id, null, Roles.Viewer, null, All(Field("birth_year", RuleOperator.Greater, "old")))));
        var fact = await Assert.ThrowsAsync<PortalException>(() => Service(s => s.SaveRowRuleAsync(id, null, Roles.Viewer, null, All(Fact(CustomerFact.OrderCount, RuleOperator.Greater, "1")))));
        var noOne = await Assert.ThrowsAsync<PortalException>(() => Service(s => s.SaveRowRuleAsync(id, null, null, null, RegionIs("North"))));
        var both = await Assert.ThrowsAsync<PortalException>(() => Service(s => s.SaveRowRuleAsync(id, null, Roles.Viewer, _viewer.Id, RegionIs("North"))));

        Assert.StartsWith("The row rule cannot be saved", incomplete.Message);
        Assert.StartsWith("The row rule cannot be saved", badNumber.Message);
        Assert.Contains("own columns", fact.Message);
        Assert.Contains("role or the user", noOne.Message);
        Assert.Contains("role or the user", both.Message);
        Assert.Empty((await Service(s => s.GetAsync(id))).RowRules);
    }

    [Fact]
    public async Task A_rule_without_conditions_gives_its_role_every_row()
    {
        var id = _shop.CustomerData.Id;
        await Service(s => s.SaveRowRuleAsync(id, null, Roles.Viewer, null, All()));

        Assert.Equal(DataPermissionService.AllRows, Assert.Single((await Service(s => s.GetAsync(id))).RowRules).Summary);
        AsViewer();
        Assert.Equal(6, (await _shop.IdsAsync(new RuleGroup())).Count);
    }

    [Fact]
    public async Task A_rule_with_a_user_attribute_is_saved_summarised_and_audited()
    {
        var id = await Service(s => s.SaveRowRuleAsync(_shop.CustomerData.Id, null, Roles.Viewer, null, RegionIs(DataPolicy.Token("Region"))));

        var permissions = await Service(s => s.GetAsync(_shop.CustomerData.Id));
        var rule = Assert.Single(permissions.RowRules);
        Assert.Equal(id, rule.Id);
        Assert.Equal("role Viewer", rule.AppliesTo);
        Assert.Contains("{user.Region}", rule.Summary);
        var entry = await LastAuditAsync();
        Assert.Equal(AuditActions.PermissionChanged, entry.Action);
        Assert.Equal("admin@example.com", entry.UserName);
        Assert.Contains("Row rule for role Viewer on customers", entry.Detail);
        Assert.Contains("{user.Region}", entry.Detail);
    }

    [Fact]
    public async Task A_changed_rule_applies_to_the_viewers_next_query()
    {
        var ruleId = await Service(s => s.SaveRowRuleAsync(_shop.CustomerData.Id, null, Roles.Viewer, null, RegionIs("North")));
        AsViewer();
        Assert.Equal([1L, 4L], await _shop.IdsAsync(new RuleGroup()));

        AsAdmin();
        await Service(s => s.SaveRowRuleAsync(_shop.CustomerData.Id, ruleId, Roles.Viewer, null, RegionIs("South")));
        AsViewer();
        Assert.Equal([2L], await _shop.IdsAsync(new RuleGroup()));

        AsAdmin();
        await Service(s => s.DeleteRowRuleAsync(_shop.CustomerData.Id, ruleId));
        AsViewer();
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], await _shop.IdsAsync(new RuleGroup()));
    }

    [Fact]
    public async Task Attribute_rules_follow_the_attribute_and_users_without_it_see_no_rows()
    {
        await Service(s => s.SaveRowRuleAsync(_shop.CustomerData.Id, null, Roles.Viewer, null, RegionIs(DataPolicy.Token("Region"))));
        AsViewer();
        Assert.Empty(await _shop.IdsAsync(new RuleGroup()));

        AsAdmin();
        await Service(s => s.SetAttributesAsync(_viewer.Id, new Dictionary<string, string> { ["Region"] = "North" }));
        AsViewer();
        Assert.Equal([1L, 4L], await _shop.IdsAsync(new RuleGroup()));
    }

    [Fact]
    public async Task Column_treatments_are_stored_and_Visible_removes_the_rule()
    {
        var id = _shop.CustomerData.Id;
        await Service(s => s.SetColumnTreatmentAsync(id, "name", Roles.Viewer, ColumnTreatment.Masked));
        Assert.Equal(ColumnTreatment.Masked, (await Service(s => s.GetAsync(id))).TreatmentOf("name", Roles.Viewer));
        Assert.Contains("Column name of customers for role Viewer: Masked", (await LastAuditAsync()).Detail);

        await Service(s => s.SetColumnTreatmentAsync(id, "name", Roles.Viewer, ColumnTreatment.Visible));

        var permissions = await Service(s => s.GetAsync(id));
        Assert.Empty(permissions.ColumnRules);
        Assert.Equal(ColumnTreatment.Visible, permissions.TreatmentOf("name", Roles.Viewer));
        var missing = await Assert.ThrowsAsync<PortalException>(() => Service(s => s.SetColumnTreatmentAsync(id, "salary", Roles.Viewer, ColumnTreatment.Hidden)));
        Assert.Contains("no column \"salary\"", missing.Message);
    }

    [Theory]
    [InlineData("Email", "built in")]
    [InlineData("name", "built in")]
    [InlineData("Region!", "not a valid attribute name")]
    [InlineData("9lives", "not a valid attribute name")]
    [InlineData(" ", "needs a name")]
    public async Task Bad_attribute_names_are_refused_and_nothing_is_lost(string name, string message)
    {
        await Service(s => s.SetAttributesAsync(_viewer.Id, new Dictionary<string, string> { ["Region"] = "North" }));

        var error = await Assert.ThrowsAsync<PortalException>(() =>
            Service(s => s.SetAttributesAsync(_viewer.Id, new Dictionary<string, string> { ["Region"] = "South", [name] = "x" })));

        Assert.Contains(message, error.Message);
        Assert.Equal("North", (await Service(s => s.GetAttributesAsync(_viewer.Id)))["Region"]);
    }

    [Fact]
    public async Task Attributes_are_replaced_as_a_set_and_audited()
    {
        await Service(s => s.SetAttributesAsync(_viewer.Id, new Dictionary<string, string> { ["Region"] = "North", ["Sales rep"] = "Ann" }));
        await Service(s => s.SetAttributesAsync(_viewer.Id, new Dictionary<string, string> { ["Region"] = "South" }));

        var attributes = await Service(s => s.GetAttributesAsync(_viewer.Id));
        Assert.Equal("South", Assert.Single(attributes).Value);
        var entry = await LastAuditAsync();
        Assert.Equal("User viewer@example.com", entry.Subject);
        Assert.Contains("Region = South", entry.Detail);
        Assert.Contains("Sales rep removed", entry.Detail);
    }

    [Fact]
    public async Task The_admins_see_all_setting_defaults_to_true_and_turning_it_off_rules_admins_too()
    {
        Assert.True(await Service(s => s.GetAdminsSeeAllDataAsync()));
        await Service(s => s.SaveRowRuleAsync(_shop.CustomerData.Id, null, Roles.Viewer, null, RegionIs("North")));
        Assert.Equal(6, (await _shop.IdsAsync(new RuleGroup())).Count);

        await Service(s => s.SetAdminsSeeAllDataAsync(false));

        Assert.False(await Service(s => s.GetAdminsSeeAllDataAsync()));
        Assert.Empty(await _shop.IdsAsync(new RuleGroup())); // no rule for Admins: fail closed
        Assert.Equal(AuditActions.PermissionChanged, (await LastAuditAsync()).Action);
    }

    private async Task<AuditEntry> LastAuditAsync()
    {
        await using var db = await Harness.Services.GetRequiredService<IPortalDbFactory>().CreateAsync();
        return await db.AuditEntries.OrderByDescending(e => e.Id).FirstAsync();
    }
}
