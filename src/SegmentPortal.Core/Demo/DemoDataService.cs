using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
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
        return jobs.Enqueue(new JobRequest(JobKind, $"Load demo data ({chosen.Customers:N0} customers)", JobKey, user,
            async (services, progress, ct) =>
            {
                var loader = services.GetRequiredService<DemoDataLoader>();
                var result = await loader.LoadAsync(chosen, user.UserId(), progress, ct);
                progress.Report(new JobProgress(1, $"Loaded {result.Customers:N0} customers and {result.Orders:N0} orders"));
            },
            JsonSerializer.Serialize(chosen)));
    }

    public JobSnapshot? LatestLoad() => jobs.Latest(JobKey);
}

/// <summary>
/// Retries an interrupted or failed demo load: loading again is safe, because the load replaces the demo tables whole
/// (a half-written load never reached them) and registers the same two datasets again.
/// </summary>
public sealed class DemoDataJobRetry(DemoDataService demo) : IJobRetry
{
    public string Kind => DemoDataService.JobKind;

    public Task<JobSnapshot> RetryAsync(string target, CancellationToken cancellationToken) =>
        demo.StartLoadAsync(JsonSerializer.Deserialize<DemoDataSize>(target) ?? DemoDataSize.Default);
}
