using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class DatasetColumnConfiguration : IEntityTypeConfiguration<DatasetColumn>
{
    public void Configure(EntityTypeBuilder<DatasetColumn> builder)
    {
        builder.Property(c => c.Name).HasMaxLength(256);
        builder.Property(c => c.SourceName).HasMaxLength(256);
        builder.Property(c => c.WarehouseType).HasMaxLength(128);
        builder.HasIndex(c => new { c.DatasetId, c.Ordinal }).IsUnique();
    }
}
