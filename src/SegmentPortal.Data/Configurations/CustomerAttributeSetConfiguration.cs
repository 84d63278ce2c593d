using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SegmentPortal.Core.Analysis;
using SegmentPortal.Core.Datasets;

namespace SegmentPortal.Data.Configurations;

internal sealed class CustomerAttributeSetConfiguration : IEntityTypeConfiguration<CustomerAttributeSet>
{
    public void Configure(EntityTypeBuilder<CustomerAttributeSet> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(200);
        builder.Property(s => s.TableName).HasMaxLength(128);
        builder.HasIndex(s => new { s.Kind, s.SourceId }).IsUnique();
        builder.HasOne<Dataset>().WithMany().HasForeignKey(s => s.DatasetId).OnDelete(DeleteBehavior.Cascade);
    }
}
