// The knowledge base's job kinds, apart from the modules that work them: the crawler and its
// HTML libraries are loaded only when a crawl job runs.

export const CRAWL_JOB = 'crawl_site';

/** A deleted document's file, removed from the knowledge bucket through Storage. */
export const REMOVE_FILE_JOB = 'remove_knowledge_file';
