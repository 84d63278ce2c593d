using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
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
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Segments;
using SegmentPortal.Core.Subscriptions;

namespace SegmentPortal.Data;

/// <summary>The metadata store: users and roles (Identity), datasets and, as features arrive, everything else the portal remembers.</summary>
public class PortalDbContext(DbContextOptions<PortalDbContext> options) : IdentityDbContext<AppUser>(options), IPortalDb
{
    public DbSet<Dataset> Datasets => Set<Dataset>();

    public DbSet<DatasetColumn> DatasetColumns => Set<DatasetColumn>();

    public DbSet<DatasetRelationship> DatasetRelationships => Set<DatasetRelationship>();

    public DbSet<DatasetRefresh> DatasetRefreshes => Set<DatasetRefresh>();

    public DbSet<DataConnection> Connections => Set<DataConnection>();

    public DbSet<DatasetGrant> DatasetGrants => Set<DatasetGrant>();

    public DbSet<Segment> Segments => Set<Segment>();

    public DbSet<SegmentSnapshot> SegmentSnapshots => Set<SegmentSnapshot>();

    public DbSet<CustomerAttributeSet> CustomerAttributeSets => Set<CustomerAttributeSet>();

    public DbSet<RfmRun> RfmRuns => Set<RfmRun>();

    public DbSet<Core.Analysis.Lifetime.LifetimeRun> LifetimeRuns => Set<Core.Analysis.Lifetime.LifetimeRun>();

    public DbSet<ClusteringRun> ClusteringRuns => Set<ClusteringRun>();

    public DbSet<Core.Analysis.Churn.ChurnRun> ChurnRuns => Set<Core.Analysis.Churn.ChurnRun>();

    public DbSet<Dashboard> Dashboards => Set<Dashboard>();

    public DbSet<Share> Shares => Set<Share>();

    public DbSet<Folder> Folders => Set<Folder>();

    public DbSet<PublicLink> PublicLinks => Set<PublicLink>();

    public DbSet<RowRule> RowRules => Set<RowRule>();

    public DbSet<ColumnRule> ColumnRules => Set<ColumnRule>();

    public DbSet<UserAttribute> UserAttributes => Set<UserAttribute>();

    public DbSet<PortalSetting> PortalSettings => Set<PortalSetting>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<JobRecord> JobRecords => Set<JobRecord>();

    public DbSet<Metric> Metrics => Set<Metric>();

    public DbSet<MetricRevision> MetricRevisions => Set<MetricRevision>();

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();

    public DbSet<Notification> Notifications => Set<Notification>();

    public DbSet<Alert> Alerts => Set<Alert>();

    public DbSet<AlertCheck> AlertChecks => Set<AlertCheck>();

    public DbSet<Subscription> Subscriptions => Set<Subscription>();

    public DbSet<SubscriptionRun> SubscriptionRuns => Set<SubscriptionRun>();

    public DbSet<Core.Users.PersonalAccessToken> AccessTokens => Set<Core.Users.PersonalAccessToken>();

    public DbSet<Core.Activation.SegmentSync> SegmentSyncs => Set<Core.Activation.SegmentSync>();

    public DbSet<Core.Activation.SyncRun> SyncRuns => Set<Core.Activation.SyncRun>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        if (Database.IsSqlite())
        {
            // SQLite has no date-time-offset type; stored as a sortable number so queries can order and compare.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }
}
