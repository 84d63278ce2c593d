using System.Net;
using System.Net.Sockets;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Admin;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Admin;

/// <summary>The connections admin page over the real connection service and a real (temp) metadata store.</summary>
public sealed class ConnectionsPageTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        Services.AddSingleton(_store.Db);
        Services.AddSingleton(_store.Paths);
        Services.AddSingleton<ISecretProtector, ReversingProtector>();
        Services.AddSingleton<IHostAddressResolver, NoDns>();
        Services.AddSingleton(Options.Create(new ConnectionOptions()));
        Services.AddSingleton<HostGuard>();
        Services.AddSingleton<SqliteSourceFolder>();
        Services.AddScoped<ConnectionService>();
    }

    [Fact]
    public async Task Lists_connections_with_their_target_and_a_password_chip()
    {
        SignInAs("admin@example.com", Roles.Admin);
        await Services.GetRequiredService<ConnectionService>().CreateAsync(new ConnectionInput
        {
            Name = "CRM", Kind = ConnectionKind.PostgreSql, Host = "127.0.0.1", Database = "crm", Username = "reader", Password = "pw",
        }, Xunit.TestContext.Current.CancellationToken);

        var cut = Render<ConnectionsPage>();

        cut.WaitForAssertion(() => Assert.Contains("CRM", cut.Find("[data-testid=connections-table]").TextContent));
        var row = cut.Find("[data-testid=connections-table] tbody tr").TextContent;
        Assert.Contains("PostgreSQL", row);
        Assert.Contains("127.0.0.1:5432/crm", row);
        Assert.Contains("reader", row);
        Assert.Contains("Password set", row);
        Assert.Contains("admin@example.com", row);
        Assert.DoesNotContain("pw", cut.Find("[data-testid=connections-table] tbody tr code").TextContent);
    }

    [Fact]
    public void Without_connections_it_says_what_to_add()
    {
        SignInAs("admin@example.com", Roles.Admin);

        var cut = Render<ConnectionsPage>();

        cut.WaitForAssertion(() => Assert.Contains("No connections yet", cut.Find(".empty-state").TextContent));
    }

    [Fact]
    public void The_new_connection_dialog_tests_inline_then_creates()
    {
        SignInAs("admin@example.com", Roles.Admin);
        var dialogs = Render<MudDialogProvider>();
        var cut = Render<ConnectionsPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=new-connection]"));

        cut.Find("[data-testid=new-connection]").Click();
        dialogs.WaitForAssertion(() => dialogs.Find("[data-testid=connection-host]"));
        Assert.Equal("5432", dialogs.Find("[data-testid=connection-port]").GetAttribute("value"));

        dialogs.Find("[data-testid=connection-name]").Change("Warehouse replica");
        dialogs.Find("[data-testid=connection-host]").Change("127.0.0.1");
        using var closedPort = ClosedPort();
        dialogs.Find("[data-testid=connection-port]").Change(((IPEndPoint)closedPort.LocalEndPoint!).Port.ToString());
        dialogs.Find("[data-testid=connection-database]").Change("dw");
        dialogs.Find("[data-testid=connection-user]").Change("reader");
        dialogs.Find("[data-testid=connection-password]").Change("Secret-1");

        dialogs.Find("[data-testid=test-connection]").Click();
        dialogs.WaitForAssertion(() =>
            Assert.Contains("Nothing is accepting connections", dialogs.Find("[data-testid=connection-test-result]").TextContent));

        dialogs.Find("[data-testid=save-connection]").Click();
        cut.WaitForAssertion(() => Assert.Contains("Warehouse replica", cut.Find("[data-testid=connections-table]").TextContent));
        Assert.Empty(dialogs.FindAll("[data-testid=connection-host]"));
        Assert.Contains("Warehouse replica created.", SnackbarMessages);
    }

    [Fact]
    public void A_viewer_gets_the_services_refusal_not_the_list()
    {
        SignInAs("vic@example.com", Roles.Viewer);

        var cut = Render<ConnectionsPage>();

        // The route's policy keeps non-admins out in the app; the service refuses a viewer all the same.
        cut.WaitForAssertion(() => Assert.Contains("You do not have permission to do that.", SnackbarMessages));
        Assert.Empty(cut.FindAll("[data-testid=connections-table] tbody tr"));
    }

    /// <summary>
    /// A port bound but not listening: connecting is refused at once, and no other process (the browser tests' app,
    /// the PostgreSQL fixture) can take the port while the test runs, as it could a port merely found free.
    /// </summary>
    private static Socket ClosedPort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>Stands in for Data Protection: enough to show the page never needs the plain password.</summary>
    private sealed class ReversingProtector : ISecretProtector
    {
        public string Protect(string plaintext) => "enc:" + new string(plaintext.Reverse().ToArray());

        public string Unprotect(string protectedValue) => new(protectedValue[4..].Reverse().ToArray());
    }

    private sealed class NoDns : IHostAddressResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
            Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}
