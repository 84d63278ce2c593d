using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Storage;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Connections;

/// <summary>Administration, validation, secrets and permissions, with no database server and no network.</summary>
public sealed class ConnectionServiceTests : IAsyncLifetime
{
    private readonly FakeResolver _resolver = new();
    private CoreHarness _harness = null!;
    private AppUser _admin = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync(configure: s => s.AddSingleton<IHostAddressResolver>(_resolver));
        _admin = await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private Task<T> Service<T>(Func<ConnectionService, Task<T>> action) => _harness.WithAsync(action);

    private Task Service(Func<ConnectionService, Task> action) => _harness.WithAsync(action);

    private static ConnectionInput Postgres(string name = "CRM", string host = "127.0.0.1", string? password = "S3cret-pw!") => new()
    {
        Name = name,
        Kind = ConnectionKind.PostgreSql,
        Host = host,
        Database = "crm",
        Username = "reader",
        Password = password,
    };

    [Fact]
    public async Task Admin_creates_lists_and_reads_a_connection_without_its_password()
    {
        var id = await Service(s => s.CreateAsync(Postgres(), Ct));

        var list = await Service(s => s.ListAsync(Ct));
        var row = Assert.Single(list);
        Assert.Equal(new ConnectionSummary(id, "CRM", ConnectionKind.PostgreSql, "127.0.0.1", 5432, "crm", "reader", true,
            "admin@example.com", row.CreatedAt), row);
        Assert.Equal("127.0.0.1:5432/crm", row.Target);
        var details = await Service(s => s.GetAsync(id, Ct));
        Assert.Equal(PostgresSslMode.Prefer, details.Settings.SslMode);
        Assert.Equal(300, details.Settings.CommandTimeoutSeconds);
        Assert.Null(details.Settings.Encrypt);
        Assert.Null(details.ToInput().Password);

        // No DTO carries the password, under any name.
        foreach (var type in new[] { typeof(ConnectionSummary), typeof(ConnectionDetails), typeof(ConnectionSettings) })
        {
            Assert.DoesNotContain(type.GetProperties(), p => p.Name.Contains("Password", StringComparison.Ordinal) && p.Name != "HasPassword");
        }
        Assert.DoesNotContain("S3cret-pw!", JsonSerializer.Serialize(list) + JsonSerializer.Serialize(details));
    }

    [Fact]
    public async Task The_password_is_stored_encrypted()
    {
        var id = await Service(s => s.CreateAsync(Postgres(), Ct));

        var stored = await RawPasswordAsync(id);
        Assert.NotNull(stored);
        Assert.DoesNotContain("S3cret-pw!", stored);
        var protector = _harness.Services.GetRequiredService<ISecretProtector>();
        Assert.Equal("S3cret-pw!", protector.Unprotect(stored));
    }

    [Fact]
    public async Task Updating_with_an_empty_password_keeps_the_stored_one()
    {
        var id = await Service(s => s.CreateAsync(Postgres(), Ct));
        var before = await RawPasswordAsync(id);

        var change = Postgres("CRM replica", password: "");
        change.Port = 6432;
        change.Settings.SslMode = PostgresSslMode.VerifyFull;
        await Service(s => s.UpdateAsync(id, change, Ct));

        Assert.Equal(before, await RawPasswordAsync(id));
        var details = await Service(s => s.GetAsync(id, Ct));
        Assert.Equal("CRM replica", details.Summary.Name);
        Assert.Equal(6432, details.Summary.Port);
        Assert.Equal(PostgresSslMode.VerifyFull, details.Settings.SslMode);

        await Service(s => s.UpdateAsync(id, Postgres("CRM replica", password: "New-pw-1"), Ct));
        var protector = _harness.Services.GetRequiredService<ISecretProtector>();
        Assert.Equal("New-pw-1", protector.Unprotect((await RawPasswordAsync(id))!));
    }

    [Fact]
    public async Task Deleting_removes_the_connection()
    {
        var id = await Service(s => s.CreateAsync(Postgres(), Ct));

        await Service(s => s.DeleteAsync(id, Ct));

        Assert.Empty(await Service(s => s.ListAsync(Ct)));
        var error = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.GetAsync(id, Ct)));
        Assert.Contains("no longer exists", error.Message);
    }

    [Theory]
    [InlineData("", "127.0.0.1", 5432, "crm", "reader", "pw", "name")]
    [InlineData("X", "", 5432, "crm", "reader", "pw", "host")]
    [InlineData("X", "127.0.0.1", 0, "crm", "reader", "pw", "1 to 65535")]
    [InlineData("X", "127.0.0.1", 65536, "crm", "reader", "pw", "1 to 65535")]
    [InlineData("X", "127.0.0.1", 5432, "", "reader", "pw", "database name")]
    [InlineData("X", "127.0.0.1", 5432, "crm", "", "pw", "user name")]
    [InlineData("X", "127.0.0.1", 5432, "crm", "reader", "", "password")]
    [InlineData("X", "https://db.example.com", 5432, "crm", "reader", "pw", "scheme")]
    [InlineData("X", "db.example.com:5432", 5432, "crm", "reader", "pw", "Port field")]
    [InlineData("X", "nowhere.example.test", 5432, "crm", "reader", "pw", "could not be found")]
    public async Task Bad_fields_are_refused_with_a_clear_message(
        string name, string host, int port, string database, string user, string password, string message)
    {
        var input = new ConnectionInput
        {
            Name = name, Kind = ConnectionKind.SqlServer, Host = host, Port = port, Database = database, Username = user, Password = password,
        };

        var error = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(input, Ct)));

        Assert.Contains(message, error.Message);
        Assert.Empty(await Service(s => s.ListAsync(Ct)));
    }

    [Fact]
    public async Task Names_are_unique_whatever_their_case()
    {
        await Service(s => s.CreateAsync(Postgres("CRM"), Ct));

        var error = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(Postgres(" crm "), Ct)));

        Assert.Contains("already exists", error.Message);
    }

    [Fact]
    public async Task Options_outside_the_allow_list_are_refused_or_dropped()
    {
        var bad = Postgres();
        bad.Settings.SslMode = (PostgresSslMode)42;
        Assert.Contains("SSL mode", (await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(bad, Ct)))).Message);

        var timeout = Postgres();
        timeout.Settings.CommandTimeoutSeconds = 0;
        Assert.Contains("timeout", (await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(timeout, Ct)))).Message);

        // SQL Server's options mean nothing to PostgreSQL and are not kept.
        var mixed = Postgres();
        mixed.Settings.Encrypt = SqlServerEncrypt.Strict;
        mixed.Settings.TrustServerCertificate = true;
        var id = await Service(s => s.CreateAsync(mixed, Ct));
        var settings = (await Service(s => s.GetAsync(id, Ct))).Settings;
        Assert.Null(settings.Encrypt);
        Assert.Null(settings.TrustServerCertificate);
    }

    [Fact]
    public async Task Sql_server_defaults_to_mandatory_encryption_and_port_1433()
    {
        var id = await Service(s => s.CreateAsync(new ConnectionInput
        {
            Name = "ERP", Kind = ConnectionKind.SqlServer, Host = "127.0.0.1", Database = "erp", Username = "reader", Password = "pw",
        }, Ct));

        var details = await Service(s => s.GetAsync(id, Ct));
        Assert.Equal(1433, details.Summary.Port);
        Assert.Equal(SqlServerEncrypt.Mandatory, details.Settings.Encrypt);
        Assert.False(details.Settings.TrustServerCertificate);
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("metadata.google.internal")]
    [InlineData("metadata")]
    [InlineData("[fe80::1]")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("100.100.100.200")]
    [InlineData("imds.example.test")]
    public async Task Link_local_and_metadata_hosts_cannot_be_saved_or_tested(string host)
    {
        _resolver.Answers["imds.example.test"] = [IPAddress.Parse("169.254.169.254")];

        var error = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.CreateAsync(Postgres(host: host), Ct)));
        Assert.Contains("link-local or cloud metadata", error.Message);

        var test = await Service(s => s.TestAsync(Postgres(host: host), null, Ct));
        Assert.False(test.Success);
        Assert.Contains("link-local or cloud metadata", test.Message);
    }

    [Fact]
    public async Task The_host_is_checked_again_at_connect_time()
    {
        _resolver.Answers["db.example.test"] = [IPAddress.Loopback];
        var id = await Service(s => s.CreateAsync(Postgres(host: "db.example.test"), Ct));

        // DNS now points the same name at the metadata service.
        _resolver.Answers["db.example.test"] = [IPAddress.Parse("169.254.169.254")];

        var test = await Service(s => s.TestAsync(id, Ct));
        Assert.False(test.Success);
        Assert.Contains("resolves to 169.254.169.254", test.Message);
        var error = await Assert.ThrowsAsync<ConnectionException>(() => Service(s => s.ListTablesAsync(id, Ct)));
        Assert.Contains("link-local", error.Message);
    }

    [Theory]
    [InlineData(Roles.Analyst)]
    [InlineData(Roles.Viewer)]
    public async Task Only_admins_may_create_change_or_delete_connections(string role)
    {
        var id = await Service(s => s.CreateAsync(Postgres(), Ct));
        await _harness.SignInAsNewUserAsync($"{role.ToLowerInvariant()}@example.com", role);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.CreateAsync(Postgres("Other"), Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.UpdateAsync(id, Postgres("Renamed"), Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.DeleteAsync(id, Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.TestAsync(Postgres(), id, Ct)));

        // Nothing changed.
        _harness.CurrentUser.Principal = CoreHarness.Principal(_admin.Id, "admin@example.com", Roles.Admin);
        Assert.Equal("CRM", (await Service(s => s.ListAsync(Ct))).Single().Name);
    }

    [Fact]
    public async Task Analysts_may_list_connections_but_viewers_may_not()
    {
        await Service(s => s.CreateAsync(Postgres(), Ct));

        await _harness.SignInAsNewUserAsync("analyst@example.com", Roles.Analyst);
        Assert.Single(await Service(s => s.ListAsync(Ct)));

        await _harness.SignInAsNewUserAsync("viewer@example.com", Roles.Viewer);
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.ListAsync(Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.ListTablesAsync(1, Ct)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Service(s => s.PreviewAsync(1, ConnectionSource.ForTable(null, "t"), 50, Ct)));
    }

    [Fact]
    public async Task Nothing_is_listening_gives_a_plain_message()
    {
        var port = PostgresServer.FreePort();
        var input = Postgres();
        input.Port = port;

        var result = await Service(s => s.TestAsync(input, null, Ct));

        Assert.False(result.Success);
        Assert.Equal($"Nothing is accepting connections at 127.0.0.1:{port}. Check the host and port, and that the server accepts TCP connections.", result.Message);
    }

    private async Task<string?> RawPasswordAsync(int id)
    {
        var paths = _harness.Services.GetRequiredService<StoragePaths>();
        await using var connection = new SqliteConnection($"Data Source={paths.MetadataDatabase};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT ProtectedPassword FROM Connections WHERE Id = $id";
        command.Parameters.AddWithValue("$id", id);
        return (string?)await command.ExecuteScalarAsync(Ct);
    }
}
