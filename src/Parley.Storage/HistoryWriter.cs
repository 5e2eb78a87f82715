using System.Threading.Channels;

namespace Parley.Storage;

/// <summary>Told, on the writer's task and in commit order, what became of each appended message.</summary>
public interface ICommitObserver
{
    void OnCommitted(StoredMessage stored);

    void OnFailed(StoredMessage message, Exception error);
}

/// <summary>
/// Group commit for chat history. Senders enqueue; one writer task drains whatever is queued (up to
/// <c>maxBatch</c>) into a single transaction, so N concurrent messages cost one fsync instead of N. Observers hear
/// of a message only after its commit, in commit order, which lets the server relay "stored before relayed"
/// (seed 001) without making a sender wait for its own fsync. The queue is bounded: when it is full, appenders wait,
/// which slows only the connections that are sending.
/// </summary>
public sealed class HistoryWriter : IAsyncDisposable
{
    private readonly ParleyDatabase _database;
    private readonly int _maxBatch;
    private readonly Channel<Pending> _queue;
    private readonly Task _loop;

    public HistoryWriter(ParleyDatabase database, int queueCapacity = 4096, int maxBatch = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _database = database;
        _maxBatch = maxBatch;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(queueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues a message; returns once it is queued (not yet committed).</summary>
    public ValueTask AppendAsync(StoredMessage message, ICommitObserver observer, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync(new Pending(message, observer), cancellationToken);

    /// <summary>Queues a message and completes with it (its <see cref="StoredMessage.Id"/> set) once it is durable.</summary>
    public async Task<StoredMessage> AppendAndWaitAsync(StoredMessage message, CancellationToken cancellationToken)
    {
        var observer = new CompletionObserver();
        await AppendAsync(message, observer, cancellationToken).ConfigureAwait(false);
        return await observer.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops accepting messages, commits everything already queued, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        using var connection = _database.OpenConnection();
        var batch = new List<Pending>(_maxBatch);
        var messages = new List<StoredMessage>(_maxBatch);
        var ids = new long[_maxBatch];
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            messages.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
                messages.Add(item.Message);
            }

            Exception? failure = null;
            try
            {
                MessageStore.InsertBatch(connection, messages, ids);
            }
            catch (Exception e)
            {
                failure = e;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                try
                {
                    if (failure is null)
                    {
                        batch[i].Observer.OnCommitted(batch[i].Message with { Id = ids[i] });
                    }
                    else
                    {
                        batch[i].Observer.OnFailed(batch[i].Message, failure);
                    }
                }
                catch (Exception)
                {
                    // An observer's fault is its own; the writer must keep committing for everyone else.
                }
            }
        }
    }

    private sealed record Pending(StoredMessage Message, ICommitObserver Observer);

    private sealed class CompletionObserver : ICommitObserver
    {
        public TaskCompletionSource<StoredMessage> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnCommitted(StoredMessage stored) => Done.TrySetResult(stored);

        public void OnFailed(StoredMessage message, Exception error) => Done.TrySetException(error);
    }
}
