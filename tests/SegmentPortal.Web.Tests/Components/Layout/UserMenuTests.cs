using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Layout;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Layout;

public sealed class UserMenuTests : PortalTestContext
{
    [Fact]
    public void Shows_the_signed_in_users_name()
    {
        SignInAs("ann@example.com", Roles.Analyst);

        var cut = RenderWithPopovers();

        Assert.Equal("ann@example.com", cut.Find("[data-testid=user-menu]").TextContent.Trim());
    }

    [Fact]
    public void Shows_nothing_when_signed_out()
    {
        SignedOut();

        var cut = RenderWithPopovers();

        Assert.Empty(cut.FindAll("[data-testid=user-menu]"));
        Assert.Empty(cut.FindAll(".mud-menu"));
    }

    [Fact]
    public void Menu_is_closed_until_opened()
    {
        SignInAs("ann@example.com", Roles.Analyst);

        var cut = RenderWithPopovers();

        Assert.Empty(cut.FindAll("[data-testid=sign-out]"));
        Assert.Equal("false", cut.Find(".mud-menu-activator").GetAttribute("aria-expanded"));
    }

    [Fact]
    public void Clicking_the_users_name_opens_the_menu()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = RenderWithPopovers();

        cut.Find("[data-testid=user-menu]").Click();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=sign-out]")));
    }

    [Fact]
    public void Pressing_enter_on_the_users_name_opens_the_menu()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = RenderWithPopovers();

        cut.Find(".mud-menu-activator").KeyDown(new KeyboardEventArgs { Key = "Enter", Code = "Enter" });

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=sign-out]")));
    }

    [Fact]
    public void The_menu_leads_every_user_to_their_access_tokens()
    {
        SignInAs("vic@example.com", Roles.Viewer);
        var cut = RenderWithPopovers();

        cut.Find("[data-testid=user-menu]").Click();

        cut.WaitForAssertion(() => Assert.Equal("/account/tokens", cut.Find("[data-testid=access-tokens-link]").GetAttribute("href")));
        Assert.Contains("Access tokens", cut.Find("[data-testid=access-tokens-link]").TextContent);
    }

    [Fact]
    public async Task Open_menu_shows_the_name_and_roles()
    {
        SignInAs("ann@example.com", Roles.Viewer, Roles.Admin);
        var cut = RenderWithPopovers();

        var menu = await OpenMenuAsync(cut);

        Assert.Contains("ann@example.com", menu.TextContent);
        // In the portal's order (Admin, Analyst, Viewer), whatever order the claims came in.
        Assert.Contains("Admin, Viewer", menu.TextContent);
    }

    [Fact]
    public async Task Open_menu_says_no_role_for_a_user_without_one()
    {
        SignInAs("new@example.com");
        var cut = RenderWithPopovers();

        var menu = await OpenMenuAsync(cut);

        Assert.Contains("No role", menu.TextContent);
    }

    [Fact]
    public async Task Sign_out_posts_to_the_logout_endpoint_with_an_antiforgery_token()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var cut = RenderWithPopovers();

        await OpenMenuAsync(cut);

        var form = cut.Find("form:has([data-testid=sign-out])");
        Assert.Equal("account/logout", form.GetAttribute("action"));
        Assert.Equal("post", form.GetAttribute("method"));
        var token = form.QuerySelector($"input[type=hidden][name={FakeAntiforgeryStateProvider.FieldName}]");
        Assert.Equal(FakeAntiforgeryStateProvider.Token, token?.GetAttribute("value"));
        var button = cut.Find("[data-testid=sign-out]");
        Assert.Equal("submit", button.GetAttribute("type"));
        Assert.Equal("Sign out", button.TextContent.Trim());
    }

    /// <summary>MudMenu draws its items through the popover provider, so render one alongside, as MainLayout does.</summary>
    private IRenderedComponent<ContainerFragment> RenderWithPopovers() => Render(builder =>
    {
        builder.OpenComponent<MudPopoverProvider>(0);
        builder.CloseComponent();
        builder.OpenComponent<UserMenu>(1);
        builder.CloseComponent();
    });

    /// <summary>Opens the menu through MudMenu itself (a click does not, see the skipped test) and returns its popover.</summary>
    private static async Task<IElement> OpenMenuAsync(IRenderedComponent<ContainerFragment> cut)
    {
        var menu = cut.FindComponent<MudMenu>();
        await cut.InvokeAsync(() => menu.Instance.OpenMenuAsync(new MouseEventArgs()));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-testid=sign-out]")));
        return cut.Find(".mud-popover:has([data-testid=sign-out])");
    }
}
