using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Metrics;

namespace SegmentPortal.Data.Configurations;

internal sealed class MetricConfiguration : IEntityTypeConfiguration<Metric>
{
    public void Configure(EntityTypeBuilder<Metric> builder)
    {
        builder.Property(m => m.Name).HasMaxLength(MetricService.MaxNameLength);
        builder.HasIndex(m => new { m.DatasetId, m.Name }).IsUnique(); // unique among a dataset's metrics, see MetricService
        builder.Property(m => m.Description).HasMaxLength(MetricService.MaxDescriptionLength);
        builder.Property(m => m.OwnerId).HasMaxLength(450);
        builder.Property(m => m.CertifiedById).HasMaxLength(450);
        builder.Property(m => m.TimeColumn).HasMaxLength(256);
        builder.Property(m => m.Unit).HasMaxLength(MetricService.MaxUnitLength);
        builder.Property(m => m.MeasureJson).IsRequired();
        builder.HasOne<Dataset>().WithMany().HasForeignKey(m => m.DatasetId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class MetricRevisionConfiguration : IEntityTypeConfiguration<MetricRevision>
{
    public void Configure(EntityTypeBuilder<MetricRevision> builder)
    {
        builder.HasOne<Metric>().WithMany().HasForeignKey(r => r.MetricId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(r => new { r.MetricId, r.At });
        builder.Property(r => r.UserId).HasMaxLength(450);
        builder.Property(r => r.UserName).HasMaxLength(256);
        builder.Property(r => r.ChangesJson).IsRequired();
        builder.Property(r => r.AfterJson).IsRequired();
    }
}
