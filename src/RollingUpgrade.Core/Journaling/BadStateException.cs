namespace RollingUpgrade.Journaling;

/// <summary>
/// The state folder or a journal in it is not what the tool wrote: bad input, refused with a message
/// that names the path and the fix before anything is touched.
/// </summary>
public abstract class BadStateException(string message) : Exception(message);
