using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Subscriptions;

namespace SegmentPortal.Data.Configurations;

internal sealed class SubscriptionConfiguration : IEntityTypeConfiguration<Subscription>
{
    public void Configure(EntityTypeBuilder<Subscription> builder)
    {
        builder.Property(s => s.Target).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.UserId).HasMaxLength(450);
        builder.Property(s => s.Role).HasMaxLength(256);
        builder.Property(s => s.CreatedById).HasMaxLength(450);
        builder.Property(s => s.ScheduleJson).IsRequired();
        builder.HasIndex(s => s.DashboardId);
        builder.HasIndex(s => s.SegmentId);
        builder.HasIndex(s => s.NextRunAt);
    }
}

internal sealed class SubscriptionRunConfiguration : IEntityTypeConfiguration<SubscriptionRun>
{
    public void Configure(EntityTypeBuilder<SubscriptionRun> builder)
    {
        builder.HasOne<Subscription>().WithMany().HasForeignKey(r => r.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Note).HasMaxLength(SubscriptionRun.MaxTextLength);
        builder.HasIndex(r => new { r.Status, r.DueAt });
        builder.HasIndex(r => new { r.SubscriptionId, r.DueAt });
    }
}
