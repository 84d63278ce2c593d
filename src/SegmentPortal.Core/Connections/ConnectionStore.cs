using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SegmentPortal.Core.Common;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Connections;

/// <summary>
/// Saved connections in the metadata store: listing, creating, changing and deleting them, with their fields checked
/// (the host against <see cref="HostGuard"/>, a SQLite file inside its folder) and their password encrypted with
/// <see cref="ISecretProtector"/>, and revealed only to open a session. Permission checks are the caller's
/// (<see cref="ConnectionService"/>).
/// </summary>
internal sealed class ConnectionStore(
    IPortalDbFactory dbFactory,
    ISecretProtector secrets,
    HostGuard hosts,
    SqliteSourceFolder sqliteFolder,
    TimeProvider clock,
    ILogger logger)
{
    private const int MaxPasswordLength = 1024;

    private static readonly JsonSerializerOptions SettingsJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task<IReadOnlyList<ConnectionSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var connections = await db.Connections.AsNoTracking().ToListAsync(cancellationToken);
        return connections.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Select(ToSummary).ToList();
    }

    public async Task<ConnectionDetails> GetAsync(int id, CancellationToken cancellationToken)
    {
        var connection = await LoadAsync(id, cancellationToken);
        return new ConnectionDetails(ToSummary(connection), ReadSettings(connection));
    }

    /// <summary>Creates a connection for <paramref name="createdBy"/> and returns its id.</summary>
    public async Task<int> CreateAsync(ConnectionInput input, string? createdBy, CancellationToken cancellationToken)
    {
        var connection = await BuildAsync(input, existing: null, cancellationToken);
        connection.CreatedBy = createdBy;
        connection.CreatedAt = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        await EnsureUniqueNameAsync(db, connection.Name, null, cancellationToken);
        db.Connections.Add(connection);
        await SaveAsync(db, connection.Name, cancellationToken);
        logger.LogInformation("Connection {Name} ({Kind}) created by {User}", connection.Name, connection.Kind, connection.CreatedBy);
        return connection.Id;
    }

    /// <summary>Changes a connection. An empty password keeps the stored one.</summary>
    public async Task UpdateAsync(int id, ConnectionInput input, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var existing = await db.Connections.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw NotFound();
        var updated = await BuildAsync(input, existing, cancellationToken);
        await EnsureUniqueNameAsync(db, updated.Name, id, cancellationToken);
        existing.Name = updated.Name;
        existing.Kind = updated.Kind;
        existing.Host = updated.Host;
        existing.Port = updated.Port;
        existing.Database = updated.Database;
        existing.Username = updated.Username;
        existing.ProtectedPassword = updated.ProtectedPassword;
        existing.OptionsJson = updated.OptionsJson;
        existing.WritableForSyncs = updated.WritableForSyncs;
        await SaveAsync(db, updated.Name, cancellationToken);
    }

    public async Task DeleteAsync(int id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var existing = await db.Connections.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw NotFound();
        var live = await db.Datasets.Where(d => d.LiveConnectionId == id).Select(d => d.Name).OrderBy(n => n).FirstOrDefaultAsync(cancellationToken);
        if (live is not null)
        {
            throw new ConnectionException($"The live dataset {live} reads this connection; delete it (and any other live dataset on it) first.");
        }
        db.Connections.Remove(existing);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>A connection from the form's fields, checked, its password encrypted (or <paramref name="existing"/>'s kept).</summary>
    public async Task<DataConnection> BuildAsync(ConnectionInput input, DataConnection? existing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var name = input.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            throw new ConnectionException("Give the connection a name.");
        }
        if (name.Length > 200)
        {
            throw new ConnectionException("The name is longer than 200 characters.");
        }
        if (!Enum.IsDefined(input.Kind))
        {
            throw new ConnectionException("Choose PostgreSQL, SQL Server or SQLite.");
        }
        var settings = NormalizeSettings(input.Kind, input.Settings ?? new ConnectionSettings());
        var connection = new DataConnection
        {
            Name = name,
            Kind = input.Kind,
            Database = "",
            OptionsJson = JsonSerializer.Serialize(settings, SettingsJson),
            WritableForSyncs = input.WritableForSyncs,
        };
        if (input.WritableForSyncs && input.Kind == ConnectionKind.Sqlite)
        {
            throw new ConnectionException("Segment syncs write to PostgreSQL and SQL Server connections only.");
        }

        if (input.Kind == ConnectionKind.Sqlite)
        {
            var file = (input.Database ?? "").Trim().Replace('\\', '/');
            sqliteFolder.Resolve(file);
            connection.Database = file;
            return connection;
        }

        connection.Host = HostGuard.NormalizeHost(input.Host);
        await hosts.CheckAsync(connection.Host, cancellationToken);
        var port = input.Port ?? ConnectionInput.DefaultPort(input.Kind);
        if (port is not (>= 1 and <= 65535))
        {
            throw new ConnectionException("The port must be a number from 1 to 65535.");
        }
        connection.Port = port;
        connection.Database = RequireField(input.Database, "the database name", 128);
        connection.Username = RequireField(input.Username, "the user name", 128);

        if (!string.IsNullOrEmpty(input.Password))
        {
            if (input.Password.Length > MaxPasswordLength || input.Password.Any(char.IsControl))
            {
                throw new ConnectionException("The password is too long or contains control characters.");
            }
            connection.ProtectedPassword = secrets.Protect(input.Password);
        }
        else if (existing?.ProtectedPassword is { } kept && existing.Kind != ConnectionKind.Sqlite)
        {
            connection.ProtectedPassword = kept;
        }
        else
        {
            // Without one the drivers would fall back to the portal server's own credentials (~/.pgpass, PGPASSWORD...).
            throw new ConnectionException("Enter the password of the database login.");
        }
        return connection;
    }

    private static string RequireField(string? value, string what, int maxLength)
    {
        var trimmed = value?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            throw new ConnectionException($"Enter {what}.");
        }
        if (trimmed.Length > maxLength || trimmed.Any(char.IsControl))
        {
            throw new ConnectionException($"{char.ToUpperInvariant(what[0])}{what[1..]} is too long or contains control characters.");
        }
        return trimmed;
    }

    /// <summary>Keeps only the options that apply to the kind, with their defaults filled in.</summary>
    internal static ConnectionSettings NormalizeSettings(ConnectionKind kind, ConnectionSettings input)
    {
        var timeout = input.CommandTimeoutSeconds ?? ConnectionSettings.DefaultCommandTimeoutSeconds;
        if (timeout is < 1 or > ConnectionSettings.MaxCommandTimeoutSeconds)
        {
            throw new ConnectionException($"The command timeout must be from 1 to {ConnectionSettings.MaxCommandTimeoutSeconds} seconds.");
        }
        var live = input.MaxLiveQueries ?? ConnectionSettings.DefaultMaxLiveQueries;
        if (live is < 1 or > ConnectionSettings.MaxMaxLiveQueries)
        {
            throw new ConnectionException($"The number of live queries at once must be from 1 to {ConnectionSettings.MaxMaxLiveQueries}.");
        }
        var result = new ConnectionSettings { CommandTimeoutSeconds = timeout, MaxLiveQueries = live };
        switch (kind)
        {
            case ConnectionKind.PostgreSql:
                result.SslMode = input.SslMode ?? PostgresSslMode.Prefer;
                if (!Enum.IsDefined(result.SslMode.Value))
                {
                    throw new ConnectionException("Choose an SSL mode: Disable, Prefer, Require or VerifyFull.");
                }
                break;
            case ConnectionKind.SqlServer:
                result.Encrypt = input.Encrypt ?? SqlServerEncrypt.Mandatory;
                if (!Enum.IsDefined(result.Encrypt.Value))
                {
                    throw new ConnectionException("Choose an encryption mode: Optional, Mandatory or Strict.");
                }
                result.TrustServerCertificate = input.TrustServerCertificate ?? false;
                break;
        }
        return result;
    }

    private static async Task EnsureUniqueNameAsync(IPortalDb db, string name, int? exceptId, CancellationToken cancellationToken)
    {
        var names = await db.Connections.AsNoTracking().Where(c => c.Id != exceptId).Select(c => c.Name).ToListAsync(cancellationToken);
        UniqueNames.Require(name, names, "connection", who: null, error: message => new ConnectionException(message));
    }

    private static async Task SaveAsync(IPortalDb db, string name, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two admins saving the same name at once: the unique index decides.
            throw new ConnectionException(UniqueNames.TakenMessage("connection", name, who: null));
        }
    }

    public async Task<DataConnection> LoadAsync(int id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw NotFound();
    }

    /// <summary>The connection's password, decrypted to open a session; null when it has none (SQLite).</summary>
    public string? Reveal(DataConnection connection)
    {
        if (connection.ProtectedPassword is null)
        {
            return null;
        }
        try
        {
            return secrets.Unprotect(connection.ProtectedPassword);
        }
        catch (CryptographicException ex)
        {
            logger.LogWarning(ex, "The stored password of connection {Name} cannot be decrypted", connection.Name);
            throw new ConnectionException(
                "The stored password can no longer be decrypted (the portal's keys changed). Edit the connection and enter the password again.");
        }
    }

    public static ConnectionSettings ReadSettings(DataConnection connection)
    {
        var stored = string.IsNullOrEmpty(connection.OptionsJson)
            ? new ConnectionSettings()
            : JsonSerializer.Deserialize<ConnectionSettings>(connection.OptionsJson, SettingsJson) ?? new ConnectionSettings();
        return NormalizeSettings(connection.Kind, stored);
    }

    private static ConnectionSummary ToSummary(DataConnection c) => new(
        c.Id, c.Name, c.Kind, c.Host, c.Port, c.Database, c.Username, c.ProtectedPassword is not null, c.CreatedBy, c.CreatedAt)
    {
        WritableForSyncs = c.WritableForSyncs,
    };

    public static ConnectionException NotFound() => new("That connection no longer exists.");
}
