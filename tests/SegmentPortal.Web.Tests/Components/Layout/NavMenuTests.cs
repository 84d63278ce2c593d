using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Layout;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Layout;

public sealed class NavMenuTests : PortalTestContext
{
    [Fact]
    public void Admin_sees_home_data_segments_analysis_and_the_users_connections_and_delivery_pages_under_admin()
    {
        SignInAs("admin@example.com", Roles.Admin);

        var cut = Render<NavMenu>();

        Assert.Equal(["Home", "Data", "Dashboards", "Segments", "Metrics", "Alerts", "Subscriptions", "RFM", "Clustering", "Lifetime value", "Survival", "Churn risk", "Users", "Data permissions", "Audit log", "API tokens", "Connections", "Delivery settings", "Outbox", "Webhooks"], LinkTexts(cut));
        var admin = cut.FindAll(".mud-nav-group").Single(g => g.TextContent.Contains("Admin"));
        Assert.Equal("/admin/users", admin.QuerySelector("a.mud-nav-link")?.GetAttribute("href"));
    }

    [Fact]
    public void Analyst_sees_data_segments_and_analysis_but_not_the_admin_section()
    {
        SignInAs("analyst@example.com", Roles.Analyst);

        var cut = Render<NavMenu>();

        Assert.Equal(["Home", "Data", "Dashboards", "Segments", "Metrics", "Alerts", "Subscriptions", "RFM", "Clustering", "Lifetime value", "Survival", "Churn risk"], LinkTexts(cut));
        Assert.Single(cut.FindAll(".mud-nav-group"));
        Assert.DoesNotContain("Admin", cut.Markup);
    }

    [Fact]
    public void Viewer_sees_data_segments_and_analysis_but_not_the_admin_section()
    {
        SignInAs("viewer@example.com", Roles.Viewer);

        var cut = Render<NavMenu>();

        Assert.Equal(["Home", "Data", "Dashboards", "Segments", "Metrics", "Alerts", "Subscriptions", "RFM", "Clustering", "Lifetime value", "Survival", "Churn risk"], LinkTexts(cut));
        Assert.Empty(cut.FindAll("a[href='/admin/users']"));
        Assert.Empty(cut.FindAll("a[href='/admin/connections']"));
    }

    [Fact]
    public void Signed_in_user_without_a_role_sees_only_home()
    {
        SignInAs("nobody@example.com");

        var cut = Render<NavMenu>();

        Assert.Equal(["Home"], LinkTexts(cut));
    }

    [Fact]
    public void Anonymous_visitor_sees_only_home()
    {
        SignedOut();

        var cut = Render<NavMenu>();

        Assert.Equal(["Home"], LinkTexts(cut));
    }

    [Fact]
    public void Without_an_authentication_state_only_home_is_shown()
    {
        var cut = Render<NavMenu>();

        Assert.Equal(["Home"], LinkTexts(cut));
    }

    [Fact]
    public void Links_point_at_the_pages()
    {
        SignInAs("admin@example.com", Roles.Admin);

        var cut = Render<NavMenu>();

        Assert.Equal(["/", "/data", "/dashboards", "/segments", "/metrics", "/alerts", "/subscriptions", "/analysis/rfm", "/analysis/clustering", "/analysis/lifetime", "/analysis/survival", "/analysis/churn", "/admin/users", "/admin/permissions", "/admin/audit", "/admin/tokens", "/admin/connections", "/admin/delivery", "/admin/outbox", "/admin/webhooks"], cut.FindAll("a.mud-nav-link").Select(a => a.GetAttribute("href")));
    }

    [Fact]
    public void The_current_page_link_is_marked_active()
    {
        SignInAs("admin@example.com", Roles.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/data/42");

        var cut = Render<NavMenu>();

        var active = cut.FindAll("a.mud-nav-link.active");
        Assert.Equal(["/data"], active.Select(a => a.GetAttribute("href")));
    }

    [Fact]
    public void Home_link_is_active_only_on_the_home_page()
    {
        SignInAs("admin@example.com", Roles.Admin);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/");

        var cut = Render<NavMenu>();

        Assert.Equal(["/"], cut.FindAll("a.mud-nav-link.active").Select(a => a.GetAttribute("href")));
    }

    private static List<string> LinkTexts(IRenderedComponent<NavMenu> cut) =>
        cut.FindAll("a.mud-nav-link").Select(a => a.TextContent.Trim()).ToList();
}
