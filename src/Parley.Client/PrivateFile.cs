namespace Parley.Client;

/// <summary>
/// Writes the client's small private files (the contact book, the remembered server): directory 0700, file 0600,
/// written whole under a temporary name and renamed over the old one, so a crash leaves the old file or the new,
/// never half of one. The temporary name is this process's own: clients sharing a state directory may write at once.
/// </summary>
public static class PrivateFile
{
    /// <summary>Throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>, leaving no temporary file behind.</summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var file = new FileStream(temporary, options))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
            }

            throw;
        }
    }
}
