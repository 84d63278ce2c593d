using System.Text.Json;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;

namespace SegmentPortal.Core.Demo;

/// <summary>Starts the demo data load as a background job; a second click joins the running one.</summary>
public sealed class DemoDataService(ICurrentUser currentUser, JobQueue jobs)
{
    public const string JobKey = "demo-data";

    public const string JobKind = "demo-data";

    public async Task<JobSnapshot> StartLoadAsync(DemoDataSize? size = null)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var chosen = size ?? DemoDataSize.Default;
        return jobs.Enqueue(JobRequest.For(JobKind, $"Load demo data ({chosen.Customers:N0} customers)", JobKey, user,
            new DemoDataLoad(chosen, user.UserId()), JsonSerializer.Serialize(chosen)));
    }

    public JobSnapshot? LatestLoad() => jobs.Latest(JobKey);
}

/// <summary>A demo data job: how much to generate, and whose the datasets become.</summary>
internal sealed record DemoDataLoad(DemoDataSize Size, string? OwnerId);

/// <summary>Does a demo data job: generates and loads the data, then says how much it loaded.</summary>
internal sealed class DemoDataJob(DemoDataLoader loader) : IJobHandler<DemoDataLoad>
{
    public async Task RunAsync(DemoDataLoad payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(progress);
        var result = await loader.LoadAsync(payload.Size, payload.OwnerId, progress, cancellationToken);
        progress.Report(new JobProgress(1, $"Loaded {result.Customers:N0} customers and {result.Orders:N0} orders"));
    }
}

/// <summary>
/// Retries an interrupted or failed demo load: loading again is safe, because the load replaces the demo tables whole
/// (a half-written load never reached them) and registers the same two datasets again.
/// </summary>
internal sealed class DemoDataJobRetry(DemoDataService demo) : IJobRetry
{
    public string Kind => DemoDataService.JobKind;

    public Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken) =>
        demo.StartLoadAsync(JsonSerializer.Deserialize<DemoDataSize>(target) ?? DemoDataSize.Default);
}
