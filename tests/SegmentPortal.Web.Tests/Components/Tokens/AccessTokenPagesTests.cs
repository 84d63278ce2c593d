using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Users;
using SegmentPortal.Web.Components.Tokens;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Tokens;

/// <summary>The Access tokens page (every user) and the Admin's API tokens page, over the real token service and a temp metadata store.</summary>
public sealed class AccessTokenPagesTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        await _store.AddUserAsync("ann@example.com", Roles.Analyst);
        await _store.AddUserAsync("admin@example.com", Roles.Admin);
    }

    /// <summary>The input of a MudBlazor field, whether the test id sits on it or on its wrapper.</summary>
    private static AngleSharp.Dom.IElement InputOf(AngleSharp.Dom.IElement element) =>
        element.TagName == "INPUT" ? element : element.QuerySelector("input")!;

    private static void ClickButton(IRenderedComponent<MudDialogProvider> dialogs, string text) =>
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == text).Click();

    private async Task<CreatedAccessToken> CreateAsAsync(string user, string role, string name)
    {
        SignInAs(user, role);
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AccessTokenService>().CreateAsync(
            new NewAccessToken(name, [ApiScopes.ReadData], Clock.GetUtcNow().AddDays(30)), Xunit.TestContext.Current.CancellationToken);
    }

    [Fact]
    public void A_new_token_is_shown_once_with_a_warning_and_then_listed_without_it()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<AccessTokensPage>();
        cut.WaitForAssertion(() => Assert.Contains("No tokens yet", cut.Find(".empty-state").TextContent));

        cut.Find("[data-testid=new-token]").Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=token-name]"));
        Assert.Equal(ApiScopes.All.Count, dialogs.FindAll("[data-testid^=token-scope-]").Count);
        Assert.Contains(ApiScopes.Descriptions[ApiScopes.UploadData], dialogs.Markup);
        dialogs.Find("[data-testid=token-name]").Change("CRM nightly sync");
        InputOf(dialogs.Find("[data-testid=token-scope-data-upload]")).Change(true);
        dialogs.Find("[data-testid=create-token]").Click();

        dialogs.WaitForAssertion(() => Assert.StartsWith("sp_", dialogs.Find("[data-testid=token-value]").GetAttribute("value")));
        var token = dialogs.Find("[data-testid=token-value]").GetAttribute("value")!;
        Assert.Contains("won't be shown again", dialogs.Find("[data-testid=token-once-warning]").TextContent);
        dialogs.Find("[data-testid=copy-token]").Click();
        Assert.Equal(token, JSInterop.Invocations["navigator.clipboard.writeText"].Single().Arguments[0]);
        dialogs.Find("[data-testid=token-done]").Click();

        cut.WaitForAssertion(() => Assert.Contains("CRM nightly sync", cut.Find("[data-testid=tokens-table]").TextContent));
        var row = cut.Find("[data-testid=tokens-table] tbody tr").TextContent;
        Assert.Contains(ApiScopes.ReadSegments, row);
        Assert.Contains(ApiScopes.UploadData, row);
        Assert.Contains("Never", row);
        Assert.Contains("Active", row);
        Assert.Contains(Clock.GetUtcNow().AddDays(90).ToLocalTime().ToString("yyyy-MM-dd"), row);
        Assert.Contains(token[..10], row);
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=token-value]")));
        Assert.DoesNotContain(token, cut.Markup);
        Assert.DoesNotContain(token, Render<AccessTokensPage>().Markup);
    }

    [Fact]
    public void A_token_without_a_name_is_refused_with_the_reason()
    {
        SignInAs("ann@example.com", Roles.Analyst);
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<AccessTokensPage>();
        cut.WaitForAssertion(() => cut.Find(".empty-state"));

        cut.Find("[data-testid=new-token]").Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=create-token]"));
        dialogs.Find("[data-testid=create-token]").Click();

        cut.WaitForAssertion(() => Assert.Contains(SnackbarMessages, m => m.Contains("Give the token a name")));
        Assert.Empty(dialogs.FindAll("[data-testid=token-value]"));
    }

    [Fact]
    public async Task Revoking_asks_first_and_then_shows_the_token_as_revoked()
    {
        await CreateAsAsync("ann@example.com", Roles.Analyst, "Old script");
        SignInAs("ann@example.com", Roles.Analyst);
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<AccessTokensPage>();
        cut.WaitForAssertion(() => Assert.Contains("Old script", cut.Find("[data-testid=tokens-table]").TextContent));

        cut.Find("[data-testid=revoke-token]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Revoke “Old script”?", dialogs.Markup));
        ClickButton(dialogs, "Revoke");

        cut.WaitForAssertion(() => Assert.Contains("Revoked by ann@example.com", cut.Find("[data-testid=token-status]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=revoke-token]"));
        Assert.Contains("“Old script” revoked.", SnackbarMessages);
    }

    [Fact]
    public async Task Admins_see_every_users_tokens_and_revoke_any()
    {
        await CreateAsAsync("ann@example.com", Roles.Analyst, "Ann's sync");
        await CreateAsAsync("admin@example.com", Roles.Admin, "Admin's export");
        SignInAs("admin@example.com", Roles.Admin);
        var dialogs = Render<MudDialogProvider>();

        var cut = Render<ApiTokensPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=tokens-table] tbody tr").Count));
        var anns = cut.FindAll("[data-testid=tokens-table] tbody tr").Single(r => r.TextContent.Contains("Ann's sync"));
        Assert.Contains("ann@example.com", anns.TextContent);
        anns.QuerySelector("[data-testid=revoke-token]")!.Click();
        dialogs.WaitForAssertion(() => Assert.Contains("of ann@example.com", dialogs.Markup));
        ClickButton(dialogs, "Revoke");

        cut.WaitForAssertion(() => Assert.Contains("Revoked by admin@example.com",
            cut.FindAll("[data-testid=tokens-table] tbody tr").Single(r => r.TextContent.Contains("Ann's sync")).TextContent));
        Assert.Contains("Active", cut.FindAll("[data-testid=tokens-table] tbody tr").Single(r => r.TextContent.Contains("Admin's export")).TextContent);
    }

    [Fact]
    public async Task A_user_sees_only_their_own_tokens()
    {
        await CreateAsAsync("admin@example.com", Roles.Admin, "Admin's export");
        SignInAs("ann@example.com", Roles.Analyst);

        var cut = Render<AccessTokensPage>();

        cut.WaitForAssertion(() => Assert.Contains("No tokens yet", cut.Find(".empty-state").TextContent));
    }
}
