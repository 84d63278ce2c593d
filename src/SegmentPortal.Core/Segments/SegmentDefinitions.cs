using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;
using SegmentPortal.Core.Queries;

namespace SegmentPortal.Core.Segments;

/// <summary>Answers <see cref="ISegmentDefinitions"/> from the saved <see cref="Segment"/>s.</summary>
internal sealed class SegmentDefinitions(IPortalDbFactory dbFactory) : ISegmentDefinitions
{
    public async Task<IReadOnlyList<SegmentDefinition>> FindAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Segments.AsNoTracking().Where(s => ids.Contains(s.Id))
            .Select(s => new SegmentDefinition(s.Id, s.Name, s.OwnerId, s.DatasetId, s.RuleJson))
            .ToListAsync(cancellationToken);
    }
}
