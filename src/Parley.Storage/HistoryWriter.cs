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

    /// <summary>Messages, receipts and barriers queued and not yet taken into a batch (the metrics' queue depth).</summary>
    public int QueuedCount => _queue.Reader.Count;

    /// <summary>Queues a message; returns once it is queued (not yet committed).</summary>
    public ValueTask AppendAsync(StoredMessage message, ICommitObserver observer, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync(new Pending(message, observer, null, null), cancellationToken);

    /// <summary>
    /// Queues a delivery or read receipt (issue #4). It is written in the next batch, after every message queued
    /// before it, and its <see cref="Receipt.Applied"/> callback runs on the writer's task once committed.
    /// </summary>
    public ValueTask MarkAsync(Receipt receipt, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync(new Pending(null, null, null, receipt), cancellationToken);

    /// <summary>
    /// Runs <paramref name="action"/> on the writer's task after every message queued before it has been committed
    /// and its observer told — an ordering barrier. The server sends END_NOTIF this way, so the notice that a chat
    /// ended can never overtake the chat's last messages. After disposal the action runs at once.
    /// </summary>
    public async ValueTask AfterPendingAsync(Action action, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(new Pending(null, null, action, null), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            action();
        }
    }

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
        var receipts = new List<Receipt>();
        var ids = new long[_maxBatch];
        var applied = new int[_maxBatch];
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            messages.Clear();
            receipts.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
                if (item.Message is not null)
                {
                    messages.Add(item.Message);
                }
                else if (item.Receipt is not null)
                {
                    receipts.Add(item.Receipt);
                }
            }

            Exception? failure = null;
            try
            {
                if (messages.Count > 0 || receipts.Count > 0)
                {
                    MessageStore.WriteBatch(connection, messages, ids, receipts, applied);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }

            // Tell everyone in queue order; the i-th message of the batch got ids[stored], the i-th receipt applied[marked].
            var stored = 0;
            var marked = 0;
            foreach (var (message, observer, barrier, receipt) in batch)
            {
                try
                {
                    if (receipt is not null)
                    {
                        // A failed receipt changes nothing: the message stays undelivered or unread, never lost.
                        var count = failure is null ? applied[marked] : 0;
                        marked++;
                        receipt.Applied?.Invoke(count);
                    }
                    else if (message is null)
                    {
                        barrier!();
                    }
                    else if (failure is null)
                    {
                        observer!.OnCommitted(message with { Id = ids[stored++] });
                    }
                    else
                    {
                        observer!.OnFailed(message, failure);
                    }
                }
                catch (Exception)
                {
                    // An observer's fault is its own; the writer must keep committing for everyone else.
                }
            }
        }
    }

    /// <summary>A message with its observer, a receipt, or (both null) a barrier action.</summary>
    private sealed record Pending(StoredMessage? Message, ICommitObserver? Observer, Action? Barrier, Receipt? Receipt);

    private sealed class CompletionObserver : ICommitObserver
    {
        public TaskCompletionSource<StoredMessage> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnCommitted(StoredMessage stored) => Done.TrySetResult(stored);

        public void OnFailed(StoredMessage message, Exception error) => Done.TrySetException(error);
    }
}
