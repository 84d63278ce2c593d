using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Data;

public enum MetadataProvider
{
    Sqlite,
    SqlServer,
}

/// <summary>Picks the EF Core provider and its migrations assembly: the one place that knows both exist.</summary>
public static class MetadataDatabase
{
    public const string ConnectionStringName = "Metadata";
    public const string SqliteMigrationsAssembly = "SegmentPortal.Data.Sqlite";
    public const string SqlServerMigrationsAssembly = "SegmentPortal.Data.SqlServer";

    public static MetadataProvider ParseProvider(string? value) => value?.Trim() switch
    {
        null or "" => MetadataProvider.Sqlite,
        var v when v.Equals("Sqlite", StringComparison.OrdinalIgnoreCase) => MetadataProvider.Sqlite,
        var v when v.Equals("SqlServer", StringComparison.OrdinalIgnoreCase) => MetadataProvider.SqlServer,
        var v => throw new InvalidOperationException(
            $"Database:Provider '{v}' is not supported. Use 'Sqlite' (the default) or 'SqlServer'."),
    };

    public static void Configure(DbContextOptionsBuilder options, MetadataProvider provider, string connectionString)
    {
        switch (provider)
        {
            case MetadataProvider.Sqlite:
                options.UseSqlite(connectionString, o => o.MigrationsAssembly(SqliteMigrationsAssembly));
                break;
            case MetadataProvider.SqlServer:
                options.UseSqlServer(connectionString, o => o.MigrationsAssembly(SqlServerMigrationsAssembly).EnableRetryOnFailure());
                break;
            default:
                throw new InvalidOperationException($"Unknown metadata provider {provider}.");
        }
    }

    /// <summary>
    /// Registers the metadata store from <c>Database:Provider</c> and <c>ConnectionStrings:Metadata</c>. With SQLite and no
    /// connection string, the database is <c>portal.db</c> in the data directory.
    /// </summary>
    public static IServiceCollection AddMetadataStore(this IServiceCollection services, IConfiguration configuration, StoragePaths paths)
    {
        var provider = ParseProvider(configuration["Database:Provider"]);
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = provider == MetadataProvider.Sqlite
                ? $"Data Source={paths.MetadataDatabase}"
                : throw new InvalidOperationException(
                    "Database:Provider is SqlServer but ConnectionStrings:Metadata is empty. Set ConnectionStrings__Metadata.");
        }
        services.TryAddSingleton<AccessChanges>();
        services.AddDbContextFactory<PortalDbContext>((sp, o) =>
        {
            Configure(o, provider, connectionString);
            o.AddInterceptors(new AccessChangesInterceptor(sp.GetRequiredService<AccessChanges>()));
        });
        services.AddSingleton<IPortalDbFactory, PortalDbFactory>();
        return services;
    }
}

internal sealed class PortalDbFactory(IDbContextFactory<PortalDbContext> factory) : IPortalDbFactory
{
    public async Task<IPortalDb> CreateAsync(CancellationToken cancellationToken = default) =>
        await factory.CreateDbContextAsync(cancellationToken);
}
