using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Analysis.Clustering;
using SegmentPortal.Core.Analysis.Rfm;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Connections;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Delivery;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;
using SegmentPortal.Core.Metrics;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Subscriptions;

namespace SegmentPortal.Core.Persistence;

/// <summary>The metadata store as services see it. One short-lived instance per operation.</summary>
public interface IPortalDb : IAsyncDisposable
{
    DbSet<AppUser> Users { get; }

    DbSet<IdentityRole> Roles { get; }

    DbSet<IdentityUserRole<string>> UserRoles { get; }

    DbSet<Dataset> Datasets { get; }

    DbSet<DatasetColumn> DatasetColumns { get; }

    DbSet<DatasetRelationship> DatasetRelationships { get; }

    DbSet<DatasetRefresh> DatasetRefreshes { get; }

    DbSet<DataConnection> Connections { get; }

    DbSet<DatasetGrant> DatasetGrants { get; }

    DbSet<Segment> Segments { get; }

    DbSet<SegmentSnapshot> SegmentSnapshots { get; }

    DbSet<CustomerAttributeSet> CustomerAttributeSets { get; }

    DbSet<RfmRun> RfmRuns { get; }

    DbSet<Analysis.Lifetime.LifetimeRun> LifetimeRuns { get; }

    DbSet<ClusteringRun> ClusteringRuns { get; }

    DbSet<Analysis.Churn.ChurnRun> ChurnRuns { get; }

    DbSet<Dashboard> Dashboards { get; }

    DbSet<Share> Shares { get; }

    DbSet<Folder> Folders { get; }

    DbSet<PublicLink> PublicLinks { get; }

    DbSet<RowRule> RowRules { get; }

    DbSet<ColumnRule> ColumnRules { get; }

    DbSet<UserAttribute> UserAttributes { get; }

    DbSet<PortalSetting> PortalSettings { get; }

    DbSet<AuditEntry> AuditEntries { get; }

    DbSet<JobRecord> JobRecords { get; }

    DbSet<Metric> Metrics { get; }

    DbSet<MetricRevision> MetricRevisions { get; }

    DbSet<OutboxMessage> OutboxMessages { get; }

    DbSet<WebhookEndpoint> WebhookEndpoints { get; }

    DbSet<Notification> Notifications { get; }

    DbSet<Alert> Alerts { get; }

    DbSet<AlertCheck> AlertChecks { get; }

    DbSet<Subscription> Subscriptions { get; }

    DbSet<SubscriptionRun> SubscriptionRuns { get; }

    DbSet<Users.PersonalAccessToken> AccessTokens { get; }

    DbSet<Activation.SegmentSync> SegmentSyncs { get; }

    DbSet<Activation.SyncRun> SyncRuns { get; }

    Task<int> SaveChangesAsync(CancellationToken cancellationToken = default);
}

public interface IPortalDbFactory
{
    Task<IPortalDb> CreateAsync(CancellationToken cancellationToken = default);
}
