/**
 * The names of an XDM medium (IHE ITI TF-2b §3.32.4.1, Distribute Document Set on Media; french-specs
 * §4): at its root INDEX.HTM and README.TXT, and IHE_XDM/ with one folder per submission set, each
 * holding METADATA.XML and the documents it describes.
 */
export const XDM_FOLDER = 'IHE_XDM';
export const METADATA_FILE = 'METADATA.XML';
export const INDEX_FILE = 'INDEX.HTM';
export const README_FILE = 'README.TXT';
/** The folder of the one submission set Passerelle writes (the name every sender uses, french-specs §4). */
export const FIRST_SUBSET = 'SUBSET01';
