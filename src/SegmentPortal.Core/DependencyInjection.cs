using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Catalog;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Demo;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Import;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Storage;
using SegmentPortal.Core.Users;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Warehouse;

namespace SegmentPortal.Core;

public static class DependencyInjection
{
    /// <summary>Domain services. The host adds the metadata store, Identity and an <see cref="ICurrentUser"/>.</summary>
    public static IServiceCollection AddSegmentPortalCore(this IServiceCollection services)
    {
        services.TryAddSingletonTimeProvider();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section);
        services.AddOptions<WarehouseOptions>().BindConfiguration(WarehouseOptions.Section)
            .Validate(o => { o.Validate(); return true; });
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section);
        services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section);
        services.AddOptions<QueryOptions>().BindConfiguration(QueryOptions.Section);
        services.AddOptions<ConnectionOptions>().BindConfiguration(ConnectionOptions.Section);
        // StoragePaths is registered by the host, which needs it before the container is built.

        services.AddSingleton<DuckDbWarehouse>();
        services.AddSingleton<JobQueue>();
        // The journal subscribes before the runner starts, so every job's states reach the metadata store.
        services.AddHostedService<JobJournal>();
        services.AddHostedService<JobRunner>();
        services.AddSingleton<JobRecovery>();
        services.AddSingleton<IJobRecoveryStep, Analysis.ClusteringRecoveryStep>();
        services.AddSingleton<IJobRecoveryStep, Analysis.Lifetime.LifetimeRecoveryStep>();
        services.AddSingleton<IJobRecoveryStep, Analysis.Churn.ChurnRecoveryStep>();
        services.AddSingleton<IJobRecoveryStep, ImportRecoveryStep>();
        services.AddScoped<JobRetryService>();
        services.AddScoped<IJobRetry, ImportJobRetry>();
        services.AddScoped<IJobRetry, Analysis.Clustering.ClusteringJobRetry>();
        services.AddScoped<IJobRetry, Analysis.Clustering.ClusteringAssignJobRetry>();
        services.AddScoped<IJobRetry, Analysis.Survival.SurvivalJobRetry>();
        services.AddScoped<IJobRetry, Analysis.Churn.ChurnJobRetry>();
        services.AddScoped<IJobRetry, Analysis.Churn.ChurnScoreJobRetry>();
        services.AddScoped<IJobRetry, Demo.DemoDataJobRetry>();
        // Each kind of job's work, resolved by the runner in the job's scope.
        services.AddScoped<IJobHandler<FileImportJob>>(sp => sp.GetRequiredService<DatasetImportRunner>());
        services.AddScoped<IJobHandler<ConnectionImportJob>>(sp => sp.GetRequiredService<DatasetImportRunner>());
        services.AddScoped<IJobHandler<Analysis.Clustering.ClusteringTraining>, Analysis.Clustering.ClusteringTrainingJob>();
        services.AddScoped<IJobHandler<Analysis.Clustering.ClusteringAssignment>, Analysis.Clustering.ClusteringAssignmentJob>();
        services.AddScoped<IJobHandler<Analysis.Lifetime.LifetimeComputation>, Analysis.Lifetime.LifetimeComputationJob>();
        services.AddScoped<IJobHandler<Analysis.Survival.SurvivalJob>, Analysis.Survival.SurvivalJobHandler>();
        services.AddScoped<IJobHandler<Analysis.Churn.ChurnTraining>, Analysis.Churn.ChurnTrainingJob>();
        services.AddScoped<IJobHandler<Analysis.Churn.ChurnScoringJobPayload>, Analysis.Churn.ChurnScoringJob>();
        services.AddScoped<IJobHandler<Demo.DemoDataLoad>, Demo.DemoDataJob>();
        services.AddScoped<ScopedPrincipal>();
        services.AddScoped<CurrentJob>();

        // Connections; the host adds the ISecretProtector that encrypts their passwords.
        services.AddSingleton<IHostAddressResolver, DnsHostAddressResolver>();
        services.AddSingleton<HostGuard>();
        services.AddSingleton<SqliteSourceFolder>();
        services.AddScoped<ConnectionService>();
        services.AddSingleton<ILiveQueryRunner, LiveQueryRunner>();
        services.AddScoped<LiveDatasetService>();

        // Delivery: the outbox and its worker (e-mail, webhooks); the host adds the IWebhookSigner.
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section);
        services.AddSingleton(sp =>
        {
            var configuration = sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
            return PortalAddress.From(configuration["Delivery:PortalUrl"], configuration["Urls"]);
        });
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section);
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<IOutbox, Outbox>();
        services.AddSingleton<SmtpSettingsStore>();
        services.AddSingleton(sp => new WebhookUrlPolicy(sp.GetRequiredService<HostGuard>(),
            allowLocal: sp.GetService<IHostEnvironment>()?.IsDevelopment() == true));
        services.AddSingleton<EmailDelivery>();
        services.AddSingleton<WebhookDelivery>();
        services.AddSingleton<DeliveryWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryWorker>());
        services.AddScoped<OutboxService>();
        services.AddSingleton<NotificationSignals>();
        services.AddScoped<NotificationService>();
        services.AddScoped(sp => new DeliverySettingsService(sp.GetRequiredService<ICurrentUser>(), sp.GetRequiredService<SmtpSettingsStore>(),
            sp.GetRequiredService<HostGuard>(), sp.GetRequiredService<IOutbox>(), sp.GetRequiredService<Audit.AuditLog>()));
        services.AddScoped(sp => new WebhookService(sp.GetRequiredService<ICurrentUser>(), sp.GetRequiredService<Persistence.IPortalDbFactory>(),
            sp.GetRequiredService<ISecretProtector>(), sp.GetRequiredService<WebhookUrlPolicy>(), sp.GetRequiredService<IOutbox>(),
            sp.GetRequiredService<Audit.AuditLog>(), sp.GetRequiredService<TimeProvider>()));

        services.AddScoped<DatasetCatalog>();
        services.AddScoped<IRuledDatasetView, RuledDatasetView>();
        services.AddPortalAccess();
        // The shareable items, each from the module that owns it (Access decides, Sharing lists; neither knows them).
        services.AddSingleton<Access.ISharedItemSource, Dashboards.DashboardItems>();
        services.AddSingleton<Access.ISharedItemSource, SegmentItems>();
        services.AddSingleton<Access.IRowRuleCheck, RowRuleCheck>();
        services.AddScoped<PermissionPolicy>();
        services.AddScoped<QueryResolver>();
        services.AddSingleton<ISegmentDefinitions, SegmentDefinitions>();
        services.AddScoped<Audit.AuditLog>();
        services.AddScoped<Exports.AuditExport>();
        services.AddOptions<Audit.AuditOptions>().BindConfiguration(Audit.AuditOptions.Section)
            .Validate(o => o.RetentionDays >= 1, "Audit:RetentionDays must be at least 1.").ValidateOnStart();
        services.AddSingleton<Audit.AuditRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<Audit.AuditRetention>());
        services.AddScoped<Access.DataPermissionService>();
        services.AddScoped<ViewAsState>();
        services.AddScoped<ViewAsService>();
        services.AddSingleton<QueryExecutor>();
        services.AddScoped<QueryService>();
        services.AddSingleton<SegmentStore>();
        services.AddSingleton<Analysis.CustomerAttributeStore>();
        services.AddSingleton<IAnalysisFields>(sp => sp.GetRequiredService<Analysis.CustomerAttributeStore>());
        services.AddScoped<Analysis.Rfm.RfmService>();
        services.AddScoped<Analysis.Clustering.ClusteringService>();
        services.AddScoped<Analysis.Survival.SurvivalService>();
        services.AddScoped<Analysis.Clustering.ClusteringTrainer>();
        services.AddScoped<Analysis.Lifetime.LifetimeService>();
        services.AddScoped<Analysis.Lifetime.LifetimeAnalyzer>();
        services.AddScoped<Analysis.Clustering.ClusteringFeatureReader>();
        services.AddScoped<Analysis.Clustering.ClusterSegments>();
        services.AddScoped<Datasets.IDatasetRefreshListener>(sp => sp.GetRequiredService<Analysis.Clustering.ClusteringService>());
        services.AddScoped<Analysis.Churn.ChurnService>();
        services.AddScoped<Analysis.Churn.ChurnTrainer>();
        services.AddScoped<Analysis.Churn.ChurnDataReader>();
        services.AddScoped<Datasets.IDatasetRefreshListener>(sp => sp.GetRequiredService<Analysis.Churn.ChurnService>());
        services.AddScoped<Datasets.IDatasetRefreshListener, Subscriptions.SubscriptionRefreshListener>();
        services.AddScoped<SegmentService>();
        services.AddScoped<SegmentHoldoutService>();
        services.AddScoped<Analysis.Lift.LiftService>();
        services.AddScoped<Metrics.MetricService>();
        services.AddScoped<Dashboards.DashboardService>();
        // Subscriptions: the host adds the IBoardRenderer that draws boards as their recipients see them.
        services.AddOptions<Subscriptions.SubscriptionOptions>().BindConfiguration(Subscriptions.SubscriptionOptions.Section);
        services.AddScoped<Subscriptions.SubscriptionService>();
        services.AddSingleton<Subscriptions.SubscriptionSignal>();
        services.AddSingleton<Subscriptions.SubscriptionRunner>();
        services.AddHostedService<Subscriptions.SubscriptionScheduler>();
        services.AddScoped<Metrics.IMetricUsers, Dashboards.DashboardMetricUsers>();
        services.AddScoped<Metrics.IMetricUsers, Alerts.AlertMetricUsers>();
        services.AddSingleton<Alerts.AlertSignal>();
        services.AddSingleton<Alerts.AlertChecker>();
        services.AddScoped<Alerts.AlertService>();
        services.AddScoped<Datasets.IDatasetRefreshListener, Alerts.AlertRefreshListener>();
        services.AddHostedService<Alerts.AlertWorker>();
        services.AddSegmentSyncs();
        services.AddOptions<Sharing.SharingOptions>().BindConfiguration(Sharing.SharingOptions.Section);
        services.AddScoped<Sharing.SharingService>();
        services.AddScoped<Sharing.DatasetSharing>();
        services.AddScoped<Sharing.IDashboardDatasets, Dashboards.DashboardDatasets>();
        services.AddScoped<Dashboards.DashboardFolders>();
        services.AddScoped<Sharing.PublicLinkService>();
        services.AddScoped<Dashboards.TileDataService>();
        services.AddScoped<RuleBuilderService>();
        services.AddScoped<DatasetProfiler>();
        services.AddScoped<DatasetSchemaService>();
        services.AddScoped<DatasetRebuilder>();
        services.AddScoped<DatasetRecipeService>();
        services.AddSingleton<UploadStore>();
        services.AddSingleton<FileImporter>();
        services.AddScoped<DatasetImportService>();
        services.AddScoped<DatasetImportRunner>();
        services.AddSingleton<RefreshScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<RefreshScheduler>());
        services.AddHostedService<UploadCleanup>();
        services.AddScoped<DemoDataLoader>();
        services.AddScoped<DemoDataService>();
        services.AddScoped<UserAdministration>();
        services.AddScoped<AccessTokenService>();
        services.AddScoped<AccessTokenValidator>();
        services.AddScoped<UserAccount>();
        services.AddScoped<AdminBootstrapper>();
        services.AddScoped<IUserConfirmation<AppUser>, EnabledUserConfirmation>();
        return services;
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
