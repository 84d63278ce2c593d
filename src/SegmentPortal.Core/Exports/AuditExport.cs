using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Core.Exports;

/// <summary>
/// The audit log as CSV, written by <see cref="TableExport"/> like every other export. It lives here, above Audit,
/// so that Audit (which every module records to) uses no export code.
/// </summary>
public sealed class AuditExport(ICurrentUser currentUser, AuditLog audit)
{
    /// <summary>Writes every matching entry, newest first, as CSV (cells that would start a formula are escaped). Admins only.</summary>
    public async Task<long> WriteCsvAsync(AuditQuery query, Stream destination, CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageUsers);
        var rows = audit.ExportEntriesAsync(query, cancellationToken)
            .Select(e => new object?[] { e.At.UtcDateTime, e.UserName, e.Action, e.Subject, e.Detail, e.Rows, e.Address });
        return await TableExport.WriteCsvAsync(AuditLog.ExportColumns, rows, destination, cancellationToken);
    }
}
