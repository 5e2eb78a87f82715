namespace Parley.Server.Hosting;

/// <summary>
/// Who asked the server to stop, and whether it is stopping (issue #7). TERMINATE at the console or over the admin
/// socket calls <see cref="RequestStop"/>; whoever hosts the server (parley server) waits for
/// <see cref="StopRequested"/> beside its signals and then disposes the server, which shuts down gracefully.
/// </summary>
internal sealed class ServerLifetime
{
    private readonly TaskCompletionSource<string> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;

    /// <summary>Completes with the reason once someone asks the server to stop; never fails.</summary>
    public Task<string> StopRequested => _stop.Task;

    /// <summary>True from the first step of shutdown on (health checks answer 503 from then).</summary>
    public bool IsStopping => _stopping;

    public void RequestStop(string reason) => _stop.TrySetResult(reason);

    public void BeginStopping() => _stopping = true;
}
