namespace Parley.LoadGenerator.Hosting;

/// <summary>
/// The last lines a server printed, for the error message when it fails to start. Every line is read, so a chatty
/// server never blocks on a full pipe, and all but the last are dropped, so one that warns for hours costs nothing.
/// </summary>
internal sealed class OutputTail(int lines)
{
    private readonly Queue<string> _lines = new();

    /// <summary>Takes one line (null, the end of a stream, is ignored): the handler for Output/ErrorDataReceived.</summary>
    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > lines)
            {
                _lines.Dequeue();
            }
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join('\n', _lines);
        }
    }
}
