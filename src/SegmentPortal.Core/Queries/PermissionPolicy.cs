using System.Security.Claims;
using SegmentPortal.Core.Access;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Core.Queries;

/// <summary>A spec the policy has allowed, with everything the compiler needs, for the user it was allowed for.</summary>
public sealed record AuthorizedQuery(QuerySpec Spec, CompileContext Context, ClaimsPrincipal User);

/// <summary>
/// The first stages of the query path, between a question and the compiler: <b>authorize</b> (the user may see data and
/// read the dataset: <see cref="Authorizer"/>), then <b>resolve</b> and <b>restrict</b> (<see cref="QueryResolver"/>:
/// the dataset's fields, customer facts and referenced segments, each as the user may see it). The rules are read
/// through the access cache for every query, so a changed rule, role or attribute applies to the next one. Nothing
/// reaches the compiler without passing through <see cref="AuthorizeAsync"/>; the rule builder, tile editor and
/// clustering pickers list fields from <see cref="DescribeAsync"/>, so a hidden column is not offered anywhere.
/// </summary>
public sealed class PermissionPolicy(ICurrentUser currentUser, Authorizer access, QueryResolver resolver, TimeProvider clock)
{
    public async Task<AuthorizedQuery> AuthorizeAsync(QuerySpec spec, CancellationToken cancellationToken = default)
    {
        // Authorize: the user may see data and read this dataset (its grants), and their account still allows it.
        var user = await currentUser.RequireAsync(Permissions.ViewData);
        var dataset = await access.RequireReadableAsync(spec.DatasetId, cancellationToken);
        var subject = await access.SubjectAsync(cancellationToken);
        // Resolve and restrict: fields, facts and segments, each as this user may see them.
        var query = await resolver.DescribeAsync(dataset, subject, cancellationToken);
        var facts = await resolver.FactSourceAsync(dataset, subject, cancellationToken);
        var segments = await resolver.SegmentsAsync(new[] { spec.Filter }.Concat(spec.Measures.Select(m => m.Where)).OfType<RuleNode>(), subject, cancellationToken);
        LiveMixing.Check(query, facts, segments.Values);
        var context = new CompileContext
        {
            Dataset = query,
            Facts = facts,
            Today = DateOnly.FromDateTime(clock.GetLocalNow().DateTime),
            Segments = segments,
            Dialect = LiveMixing.DialectFor(query.Live),
        };
        return new AuthorizedQuery(spec, context, user);
    }

    /// <summary>
    /// A readable dataset as the compiler and the rule builder see it for the current user: the columns they may see
    /// (masked ones as text), the rows they may see, plus the customer fields of analyses (RFM, clusters) on it or on
    /// datasets related to it, when the user may read the analysed dataset.
    /// </summary>
    public async Task<QueryDataset> DescribeAsync(Dataset dataset, CancellationToken cancellationToken = default) =>
        await resolver.DescribeAsync(dataset, await access.SubjectAsync(cancellationToken), cancellationToken);

    /// <summary>Where a dataset's customer facts come from for the current user (see <see cref="QueryResolver.FactSourceAsync"/>).</summary>
    public async Task<FactSource?> FactSourceAsync(Dataset dataset, CancellationToken cancellationToken) =>
        await resolver.FactSourceAsync(dataset, await access.SubjectAsync(cancellationToken), cancellationToken);
}
