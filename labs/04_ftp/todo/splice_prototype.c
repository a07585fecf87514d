/* (splice_file_data() is left out of the lab: see the top of the file.) */
