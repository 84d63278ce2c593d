using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Jobs;

namespace SegmentPortal.Data.Configurations;

internal sealed class JobRecordConfiguration : IEntityTypeConfiguration<JobRecord>
{
    public void Configure(EntityTypeBuilder<JobRecord> builder)
    {
        builder.Property(j => j.Id).ValueGeneratedNever();
        builder.Property(j => j.Kind).HasMaxLength(64);
        builder.Property(j => j.Title).HasMaxLength(512);
        builder.Property(j => j.Key).HasMaxLength(512);
        builder.Property(j => j.RequestedById).HasMaxLength(450);
        builder.Property(j => j.RequestedBy).HasMaxLength(256);
        builder.Property(j => j.Message).HasMaxLength(2000);
        builder.Property(j => j.Error).HasMaxLength(4000);
        builder.HasIndex(j => j.Status);
        builder.HasIndex(j => j.QueuedAt);
    }
}
