using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Storage;

namespace SegmentPortal.Core.Activation;

/// <summary>Registers segment syncs: the runner, its worker, the destinations and the refresh hook.</summary>
internal static class ActivationServices
{
    public static IServiceCollection AddSegmentSyncs(this IServiceCollection services)
    {
        services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.Section);
        services.AddSingleton<SyncWarehouse>();
        services.AddSingleton<SyncSignal>();
        services.AddSingleton<ISyncDestination>(sp => new WebhookSyncDestination(sp.GetRequiredService<IPortalDbFactory>(),
            sp.GetRequiredService<WebhookDelivery>(), sp.GetRequiredService<IOptions<SyncOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ISyncDestination, TableSyncDestination>();
        services.AddSingleton<ISyncDestination>(sp => new FileDropDestination(sp.GetRequiredService<StoragePaths>(), sp.GetRequiredService<IOptions<SyncOptions>>()));
        services.AddSingleton(sp => new SyncRunner(sp.GetRequiredService<IServiceScopeFactory>(), sp.GetRequiredService<IPortalDbFactory>(),
            sp.GetRequiredService<SyncWarehouse>(), sp.GetRequiredService<SyncSignal>(),
            sp.GetRequiredService<IOptions<SyncOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SyncRunner>>()));
        services.AddHostedService<SyncWorker>();
        services.AddScoped<ISegmentRefreshListener, SyncRefreshListener>();
        services.AddScoped<Datasets.IDatasetRefreshListener, SyncDatasetRefreshListener>();
        services.AddScoped(sp => new SyncService(sp.GetRequiredService<Identity.ICurrentUser>(), sp.GetRequiredService<IPortalDbFactory>(),
            sp.GetRequiredService<Access.Authorizer>(), sp, sp.GetRequiredService<SyncRunner>(), sp.GetRequiredService<SyncWarehouse>(),
            sp.GetRequiredService<StoragePaths>(), sp.GetRequiredService<IOptions<SyncOptions>>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
