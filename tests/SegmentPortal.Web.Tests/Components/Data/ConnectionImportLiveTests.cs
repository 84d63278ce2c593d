using System.Net;
using System.Net.Sockets;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Data;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Data;

/// <summary>The "Import" | "Live (query the database)" choice of importing from a connection, over the real Core services.</summary>
public sealed class ConnectionImportLiveTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
        Services.AddSingleton<ISecretProtector, PlainProtector>();
        SignInAs("admin@example.com", Roles.Admin);
        await _store.AddUserAsync("admin@example.com", Roles.Admin);
    }

    [Fact]
    public async Task A_postgresql_connection_offers_live_with_its_freshness_and_a_sqlite_one_only_import()
    {
        // A port nothing listens on: listing its tables fails at once, which is all the choice needs.
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var connections = Services.GetRequiredService<ConnectionService>();
        var postgresId = await connections.CreateAsync(new ConnectionInput
        {
            Name = "Warehouse", Kind = ConnectionKind.PostgreSql, Host = "127.0.0.1", Port = ((IPEndPoint)closed.LocalEndPoint!).Port,
            Database = "dw", Username = "reader", Password = "pw",
        }, Xunit.TestContext.Current.CancellationToken);
        var folder = Services.GetRequiredService<SqliteSourceFolder>().FolderPath;
        await File.WriteAllBytesAsync(Path.Combine(folder, "shop.db"), [], Xunit.TestContext.Current.CancellationToken);
        var sqliteId = await connections.CreateAsync(new ConnectionInput { Name = "Files", Kind = ConnectionKind.Sqlite, Database = "shop.db" },
            Xunit.TestContext.Current.CancellationToken);
        var cut = Render<ConnectionImport>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=connection-picker]"));
        Assert.Empty(cut.FindAll("[data-testid=storage-choice]"));
        var picker = cut.FindComponent<MudSelect<int?>>();

        await cut.InvokeAsync(() => picker.Instance.ValueChanged.InvokeAsync(postgresId));
        cut.WaitForAssertion(() => Assert.Contains("Live (query the database)", cut.Find("[data-testid=storage-choice]").TextContent));
        Assert.Contains("Import", cut.Find("[data-testid=storage-choice]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=live-cache-minutes]"));

        var choice = cut.FindComponent<MudRadioGroup<bool>>();
        await cut.InvokeAsync(() => choice.Instance.ValueChanged.InvokeAsync(true));
        cut.WaitForAssertion(() => cut.Find("[data-testid=live-cache-minutes]"));
        Assert.Contains("rows stay in the database", cut.Find("[data-testid=live-help]").TextContent);

        await cut.InvokeAsync(() => picker.Instance.ValueChanged.InvokeAsync(sqliteId));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=storage-choice]")));
    }

    private sealed class PlainProtector : ISecretProtector
    {
        public string Protect(string plaintext) => "p:" + plaintext;

        public string Unprotect(string protectedValue) => protectedValue[2..];
    }
}
