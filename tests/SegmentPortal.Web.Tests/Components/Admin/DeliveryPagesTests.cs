using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using MudBlazor;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Admin;
using SegmentPortal.Web.Infrastructure;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Admin;

/// <summary>The Outbox, Webhooks and Delivery settings pages over the real Core services and a temp metadata store (the worker is not running).</summary>
public sealed class DeliveryPagesTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        Services.AddSingleton<ISecretProtector, PrefixProtector>();
        Services.AddSingleton<IWebhookSigner, StandardWebhookSigner>();
        Services.AddSingleton<IHostEnvironment>(new DevelopmentEnvironment());
    }

    private IOutbox Outbox => Services.GetRequiredService<IOutbox>();

    [Fact]
    public void An_empty_outbox_explains_what_will_appear_and_where_development_mail_goes()
    {
        SignInAs("admin@example.com", Roles.Admin);

        var cut = Render<OutboxPage>();

        cut.WaitForAssertion(() => Assert.Contains("No messages yet", cut.Find(".empty-state").TextContent));
        Assert.Contains(Path.Combine(_store.Paths.DataDirectory, "outbox", "mail"), cut.Find("[data-testid=outbox-folder-note]").TextContent);
    }

    [Fact]
    public async Task The_outbox_lists_messages_with_state_and_error_opens_one_sandboxed_and_retries_a_failed_one()
    {
        SignInAs("admin@example.com", Roles.Admin);
        var waiting = await Outbox.EnqueueAsync(OutboxRequest.Email("ann@example.com", "Weekly revenue", "<p>Up <script>alert(1)</script></p>", "Up", "k1"),
            Xunit.TestContext.Current.CancellationToken);
        var failed = await Outbox.EnqueueAsync(OutboxRequest.Email("bob@example.com", "Churn alert", null, "Down", "k2"),
            Xunit.TestContext.Current.CancellationToken);
        await using (var db = await _store.Db.CreateAsync(Xunit.TestContext.Current.CancellationToken))
        {
            var message = await db.OutboxMessages.SingleAsync(m => m.Id == failed!.Id, Xunit.TestContext.Current.CancellationToken);
            (message.State, message.Attempts, message.LastError) = (OutboxState.Failed, 8, "Could not connect: Connection refused");
            await db.SaveChangesAsync(Xunit.TestContext.Current.CancellationToken);
        }
        var dialogs = Render<MudDialogProvider>();

        var cut = Render<OutboxPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=outbox-table] tbody tr").Count));
        var rows = cut.FindAll("[data-testid=outbox-table] tbody tr");
        Assert.Contains("Churn alert", rows[0].TextContent);
        Assert.Contains("Failed", rows[0].TextContent);
        Assert.Contains("Could not connect: Connection refused", rows[0].TextContent);
        Assert.Contains("bob@example.com", rows[0].TextContent);
        Assert.Contains("Weekly revenue", rows[1].TextContent);
        Assert.Contains("Waiting", rows[1].TextContent);
        Assert.Single(cut.FindAll("[data-testid=retry-message]"));

        rows[1].QuerySelector("[data-testid=open-message]")!.Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=message-html]"));
        var frame = dialogs.Find("[data-testid=message-html]");
        Assert.Equal("", frame.GetAttribute("sandbox")); // no scripts, forms, popups or navigation
        Assert.Contains("<script>alert(1)</script>", frame.GetAttribute("srcdoc"));
        Assert.Empty(dialogs.FindAll("script"));

        cut.Find("[data-testid=retry-message]").Click();
        cut.WaitForAssertion(() => Assert.Contains("Sending again.", SnackbarMessages));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=retry-message]")));
        Assert.Contains("Waiting", cut.FindAll("[data-testid=outbox-table] tbody tr")[0].TextContent);
        Assert.NotNull(waiting);
    }

    [Fact]
    public void A_new_webhook_endpoints_secret_is_shown_once()
    {
        SignInAs("admin@example.com", Roles.Admin);
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<WebhooksPage>();
        cut.WaitForAssertion(() => Assert.Contains("No webhook endpoints yet", cut.Find(".empty-state").TextContent));

        cut.Find("[data-testid=new-webhook]").Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=webhook-url]"));
        dialogs.Find("[data-testid=webhook-name]").Change("Ops channel");
        dialogs.Find("[data-testid=webhook-url]").Change("http://127.0.0.1:9/hook");
        dialogs.Find("[data-testid=create-webhook]").Click();

        dialogs.WaitForAssertion(() => Assert.StartsWith("whsec_", dialogs.Find("[data-testid=webhook-secret]").GetAttribute("value")));
        var secret = dialogs.Find("[data-testid=webhook-secret]").GetAttribute("value")!;
        dialogs.Find("[data-testid=webhook-done]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Ops channel", cut.Find("[data-testid=webhooks-table]").TextContent));
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=webhook-secret]")));
        Assert.DoesNotContain(secret, cut.Markup);
        Assert.DoesNotContain(secret, Render<WebhooksPage>().Markup);

        // The test event goes to the outbox and shows in the endpoint's history.
        cut.Find("[data-testid=send-test-event]").Click();
        cut.WaitForAssertion(() => Assert.Contains("SegmentPortal test event", cut.Find("[data-testid=webhook-history]").TextContent));
    }

    [Fact]
    public void Delivery_settings_say_mail_goes_to_the_folder_until_a_host_is_saved()
    {
        SignInAs("admin@example.com", Roles.Admin);
        var cut = Render<DeliverySettingsPage>();
        cut.WaitForAssertion(() => Assert.Contains("written as an .eml file", cut.Find("[data-testid=folder-outbox-note]").TextContent));

        cut.Find("[data-testid=smtp-host]").Change("127.0.0.1");
        cut.Find("[data-testid=smtp-password]").Change("Smtp-secret-1");
        cut.Find("[data-testid=save-smtp]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Delivery settings saved.", SnackbarMessages));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=folder-outbox-note]")));
        Assert.Contains("A password is stored", cut.Markup);
        Assert.DoesNotContain("Smtp-secret-1", cut.Markup);
    }

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Analyst)]
    public void Non_admins_get_the_services_refusal_not_the_outbox(string role)
    {
        SignInAs($"{role}@example.com", role);

        var cut = Render<OutboxPage>();

        cut.WaitForAssertion(() => Assert.Contains("You do not have permission to do that.", SnackbarMessages));
        Assert.Empty(cut.FindAll("[data-testid=outbox-table]"));
        Assert.Empty(cut.FindAll(".empty-state"));
    }

    private sealed class PrefixProtector : ISecretProtector
    {
        public string Protect(string plaintext) => "enc:" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(plaintext));

        public string Unprotect(string protectedValue) => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(protectedValue[4..]));
    }

    private sealed class DevelopmentEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Development;

        public string ApplicationName { get; set; } = "SegmentPortal.Web.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
