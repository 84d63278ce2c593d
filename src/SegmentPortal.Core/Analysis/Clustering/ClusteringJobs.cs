using SegmentPortal.Core.Jobs;

namespace SegmentPortal.Core.Analysis.Clustering;

/// <summary>A training job: the clustering run to train.</summary>
public sealed record ClusteringTraining(int RunId);

/// <summary>A job assigning a completed run's customers to its clusters again (after the dataset changed).</summary>
public sealed record ClusteringAssignment(int RunId);

/// <summary>Does a training job through <see cref="ClusteringTrainer"/>.</summary>
internal sealed class ClusteringTrainingJob(ClusteringTrainer clustering) : IJobHandler<ClusteringTraining>
{
    public Task RunAsync(ClusteringTraining payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return clustering.TrainAsync(payload.RunId, progress, cancellationToken);
    }
}

/// <summary>Does an assignment job through <see cref="ClusteringTrainer"/>.</summary>
internal sealed class ClusteringAssignmentJob(ClusteringTrainer clustering) : IJobHandler<ClusteringAssignment>
{
    public Task RunAsync(ClusteringAssignment payload, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return clustering.ReassignAsync(payload.RunId, cancellationToken);
    }
}
