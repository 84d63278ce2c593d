using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Alerts;
using SegmentPortal.Core.Metrics;

namespace SegmentPortal.Data.Configurations;

internal sealed class AlertConfiguration : IEntityTypeConfiguration<Alert>
{
    public void Configure(EntityTypeBuilder<Alert> builder)
    {
        builder.Property(a => a.Name).HasMaxLength(Alert.MaxNameLength);
        builder.Property(a => a.OwnerId).HasMaxLength(450);
        builder.Property(a => a.Subject).HasConversion<string>().HasMaxLength(16);
        builder.Property(a => a.TileId).HasMaxLength(64);
        builder.Property(a => a.ConditionJson).IsRequired();
        builder.Property(a => a.ScheduleJson).IsRequired();
        builder.Property(a => a.RecipientsJson).IsRequired();
        // A metric's alerts go with it; tiles and segments are checked by the alert service (their removal fails the check).
        builder.HasOne<Metric>().WithMany().HasForeignKey(a => a.MetricId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(a => a.SegmentId);
        builder.HasIndex(a => a.DashboardId);
        // The scheduler's question: which alerts are due.
        builder.HasIndex(a => a.NextCheckAt);
    }
}

internal sealed class AlertCheckConfiguration : IEntityTypeConfiguration<AlertCheck>
{
    public void Configure(EntityTypeBuilder<AlertCheck> builder)
    {
        builder.HasOne<Alert>().WithMany().HasForeignKey(c => c.AlertId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(c => c.Trigger).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.Transition).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.Threshold).HasMaxLength(200);
        builder.Property(c => c.Reason).HasMaxLength(AlertCheck.MaxTextLength);
        builder.Property(c => c.SentTo).HasMaxLength(AlertCheck.MaxTextLength);
        // The worker's question: which checks are due; an alert's history, newest first.
        builder.HasIndex(c => new { c.Status, c.DueAt });
        builder.HasIndex(c => new { c.AlertId, c.DueAt });
    }
}
