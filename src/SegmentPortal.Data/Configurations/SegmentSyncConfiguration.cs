using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Activation;
using SegmentPortal.Core.Segments;

namespace SegmentPortal.Data.Configurations;

internal sealed class SegmentSyncConfiguration : IEntityTypeConfiguration<SegmentSync>
{
    public void Configure(EntityTypeBuilder<SegmentSync> builder)
    {
        builder.HasOne<Segment>().WithMany().HasForeignKey(s => s.SegmentId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.Name).HasMaxLength(SegmentSync.MaxNameLength);
        builder.Property(s => s.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.Schedule).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.FileFormat).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.TableSchema).HasMaxLength(128);
        builder.Property(s => s.TableName).HasMaxLength(128);
        builder.Property(s => s.Folder).HasMaxLength(SegmentSync.MaxPathLength);
        builder.Property(s => s.ColumnsJson).IsRequired();
        builder.Property(s => s.OwnerId).HasMaxLength(450);
        builder.HasIndex(s => s.SegmentId);
        builder.HasIndex(s => s.NextRunAt);
    }
}

internal sealed class SyncRunConfiguration : IEntityTypeConfiguration<SyncRun>
{
    public void Configure(EntityTypeBuilder<SyncRun> builder)
    {
        builder.HasOne<SegmentSync>().WithMany().HasForeignKey(r => r.SyncId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Trigger).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Error).HasMaxLength(SyncRun.MaxErrorLength + 100);
        builder.HasIndex(r => new { r.Status, r.SyncId });
        builder.HasIndex(r => new { r.SyncId, r.Id });
    }
}
