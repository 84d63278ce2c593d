using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Jobs;

namespace SegmentPortal.Core.Demo;

/// <summary>Starts the demo data load as a background job; a second click joins the running one.</summary>
public sealed class DemoDataService(ICurrentUser currentUser, JobQueue jobs)
{
    public const string JobKey = "demo-data";

    public async Task<JobSnapshot> StartLoadAsync(DemoDataSize? size = null)
    {
        var user = await currentUser.RequireAsync(Permissions.ManageData);
        var chosen = size ?? DemoDataSize.Default;
        return jobs.Enqueue(new JobRequest("demo-data", $"Load demo data ({chosen.Customers:N0} customers)", JobKey, user,
            async (services, progress, ct) =>
            {
                var loader = services.GetRequiredService<DemoDataLoader>();
                var result = await loader.LoadAsync(chosen, user.UserId(), progress, ct);
                progress.Report(new JobProgress(1, $"Loaded {result.Customers:N0} customers and {result.Orders:N0} orders"));
            }));
    }

    public JobSnapshot? LatestLoad() => jobs.Latest(JobKey);
}
